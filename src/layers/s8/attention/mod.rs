//! int8 attention and transformer inference (in progress).

//! Training: weight initialisation, losses and optimizer steps, built on the layers' backward
//! passes.

pub mod distill;
pub mod early_stop;
pub mod finetune;
pub mod init;
pub mod loss;
pub mod optim;

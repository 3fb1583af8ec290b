//! Training: weight initialisation, and (built on the layers' backward passes) the losses,
//! optimizers and fine-tuning rules.

pub mod init;

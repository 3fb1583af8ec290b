//! Training: weight initialisation, losses and optimizer steps, built on the layers' backward
//! passes; early stopping; teacher–student distillation ([`distill`]); and on-device
//! fine-tuning of a deployed model ([`finetune`]).

pub mod distill;
pub mod early_stop;
pub mod finetune;
pub mod init;
pub mod loss;
pub mod optim;

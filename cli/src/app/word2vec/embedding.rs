//! Vectors as a `.ttm` model: one f32 `Embedding` operation (`vocab`, `dim`, `seq_len` 1) whose
//! table is the vectors in id order, so a student model on the device can look words up in
//! flash, or start from them.

use tinytune::layers::embedding::EmbeddingConfig;

use crate::app::AppError;
use crate::model::{OwnedModel, OwnedOp};
use crate::ttm;

/// The `.ttm` bytes of an Embedding layer with table `table` (`[vocab, dim]`).
///
/// # Errors
/// A message if the format rejects the table (a zero dimension, a length other than
/// `vocab · dim`, a file beyond 4 GiB).
pub fn embedding_ttm(table: &[f32], vocab: usize, dim: usize) -> Result<Vec<u8>, AppError> {
    let config = EmbeddingConfig {
        vocab,
        dim,
        seq_len: 1,
    };
    let model = OwnedModel::new(vec![OwnedOp::Embedding(config, table.to_vec())]);
    ttm::encode(&model, None, 0, &[])
        .map_err(|e| AppError::new(format!("cannot encode the embedding table: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tinytune::model::Op;

    /// The file reads back as one Embedding op with the same configuration and table.
    #[test]
    fn reads_back_as_one_embedding() {
        let table: Vec<f32> = (0..6).map(|i| i as f32 * 0.5 - 1.0).collect();
        let bytes = embedding_ttm(&table, 3, 2).expect("encode");
        let file = ttm::AlignedBytes::new(&bytes);
        let model = file.model().expect("parse");
        let ops: Vec<Op<'_>> = model.ops().collect();
        assert_eq!(ops.len(), 1);
        match ops.first() {
            Some(Op::Embedding(c, p)) => {
                assert_eq!((c.vocab, c.dim, c.seq_len), (3, 2, 1));
                assert_eq!(*p, &table[..]);
            }
            other => panic!("expected an Embedding op, got {other:?}"),
        }
        assert!(embedding_ttm(&[0.0; 5], 3, 2).is_err());
    }
}

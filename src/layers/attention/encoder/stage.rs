//! [`EncoderStage`]: the named intermediate activations of an encoder block.

/// An intermediate activation of a [`TransformerEncoder`](super::TransformerEncoder) block, in
/// computation order, as reported by
/// [`forward_observed`](super::TransformerEncoder::forward_observed). The stages are those an
/// int8 block quantizes separately (the fields of
/// [`EncoderRanges`](crate::layers::s8::attention::EncoderRanges), in the same order), so
/// observing them over calibration samples gives every range the int8 block needs.
///
/// Per sample, `x` `[seq, width]`:
///
/// ```text
/// ln1 = LN1(x);  q, k, v = ln1·Wqᵀ + bq, …;  attn = heads concatenated;  mha = attn·Woᵀ + bo
/// resid = x + mha;  ln2 = LN2(resid);  ff1 = ln2·W1ᵀ + b1;  gelu = GELU(ff1)
/// ff2 = gelu·W2ᵀ + b2;  output = resid + ff2
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum EncoderStage {
    /// The block's input `x`, `[seq, width]`.
    Input,
    /// `LN1(x)`, `[seq, width]`.
    Ln1,
    /// The queries, `[seq, width]` (head `h` in columns `h·d .. (h+1)·d`).
    Q,
    /// The keys, `[seq, width]`.
    K,
    /// The values, `[seq, width]`.
    V,
    /// The heads' outputs concatenated, `[seq, width]`.
    Attn,
    /// The attention's output projection, `[seq, width]`.
    Mha,
    /// The first residual sum `x + MHA(LN1(x))`, `[seq, width]`.
    Resid,
    /// `LN2` of the residual sum, `[seq, width]`.
    Ln2,
    /// The first feed-forward layer before GELU, `[seq, ff]`.
    Ff1,
    /// `GELU(ff1)`, `[seq, ff]`.
    Gelu,
    /// The second feed-forward layer, `[seq, width]`.
    Ff2,
    /// The block's output, `[seq, width]`.
    Output,
}

impl EncoderStage {
    /// Every stage, in computation order (the order of the observer's calls for one sample).
    pub const ALL: [EncoderStage; 13] = [
        EncoderStage::Input,
        EncoderStage::Ln1,
        EncoderStage::Q,
        EncoderStage::K,
        EncoderStage::V,
        EncoderStage::Attn,
        EncoderStage::Mha,
        EncoderStage::Resid,
        EncoderStage::Ln2,
        EncoderStage::Ff1,
        EncoderStage::Gelu,
        EncoderStage::Ff2,
        EncoderStage::Output,
    ];

    /// The stage's position in [`ALL`](Self::ALL), `0..13`.
    pub fn index(self) -> usize {
        self as usize
    }
}

#[cfg(test)]
mod tests {
    use super::EncoderStage;

    #[test]
    fn index_is_the_position_in_all() {
        for (i, s) in EncoderStage::ALL.iter().enumerate() {
            assert_eq!(s.index(), i);
        }
    }
}

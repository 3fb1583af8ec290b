//! [`Ensemble`]: members combined by one [`Combine`] rule.

use super::{check_proba_io, Classifier};
use crate::error::{check_len, Buffer, Error, ShapeError};
use crate::train::loss::argmax;

/// How an [`Ensemble`] turns its members' probabilities `p_m` (rows of `[batch, classes]`) into
/// its own. Weights are normalised by their sum `S`, so they need not sum to 1.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Combine<'w> {
    /// Only member `index` (chosen on validation data, see
    /// [`best_member`](super::best_member)): `p = p_index`.
    Best(usize),
    /// Majority vote: `p_k` = fraction of members whose most probable class is `k`. A member's
    /// own ties go to its lowest class index (and a member row of NaN votes for class 0), as do
    /// ties of the ensemble's [`predict`](super::predict).
    Vote,
    /// Mean of the members' probabilities: `p = (1/M) Σ_m p_m`.
    Mean,
    /// Weighted mean, one weight per member: `p = Σ_m (w_m / S) p_m`.
    WeightedMean(&'w [f32]),
    /// Weighted vote, one weight per member: `p_k = Σ_m (w_m / S) [argmax p_m = k]`. With the
    /// SAMME weights `α_m` its argmax is SAMME's decision `argmax_k Σ_m α_m [h_m(x) = k]`.
    WeightedVote(&'w [f32]),
}

/// A fixed set of members with a combination rule. It is itself a [`Classifier`], so ensembles
/// nest.
///
/// # Scratch layout
///
/// [`scratch_len`](Classifier::scratch_len)`(batch)` is, for [`Combine::Best`], the chosen
/// member's `scratch_len(batch)`; for every other rule `batch * classes` values holding the
/// current member's probabilities, followed by the largest `scratch_len(batch)` of any member
/// (members run one after the other and share it).
#[derive(Clone, Copy)]
pub struct Ensemble<'a> {
    members: &'a [&'a dyn Classifier],
    combine: Combine<'a>,
    /// `1 / S` for the weighted rules, `1 / M` otherwise.
    inv_total: f32,
    classes: usize,
    input_len: usize,
}

impl<'a> Ensemble<'a> {
    /// Checks the members and the rule.
    ///
    /// # Errors
    /// - [`ShapeError::Dimension`]: no members, or members with 0 classes.
    /// - [`ShapeError::Length`] with [`Buffer::Input`]: member `i` has a different `input_len()`
    ///   than member 0 (`expected` is member 0's, `actual` member `i`'s); with [`Buffer::Output`]:
    ///   the same for `classes()`.
    /// - [`Error::Index`]: `Best(index)` with `index >= members.len()`.
    /// - [`ShapeError::Length`] with [`Buffer::Weights`]: not one weight per member.
    /// - [`Error::Config`]: a weight negative or not finite, or the weights summing to 0 (or
    ///   overflowing).
    pub fn new(members: &'a [&'a dyn Classifier], combine: Combine<'a>) -> Result<Self, Error> {
        let first = members.first().ok_or(ShapeError::Dimension)?;
        let (classes, input_len) = (first.classes(), first.input_len());
        if classes == 0 {
            return Err(ShapeError::Dimension.into());
        }
        for m in members.iter() {
            check_len(Buffer::Input, input_len, m.input_len())?;
            check_len(Buffer::Output, classes, m.classes())?;
        }
        let inv_total = match combine {
            Combine::Best(index) if index >= members.len() => {
                return Err(Error::Index {
                    position: index,
                    len: members.len(),
                })
            }
            Combine::Best(_) => 1.0,
            Combine::Vote | Combine::Mean => 1.0 / members.len() as f32,
            Combine::WeightedMean(w) | Combine::WeightedVote(w) => {
                check_len(Buffer::Weights, members.len(), w.len())?;
                if w.iter().any(|&x| !(x.is_finite() && x >= 0.0)) {
                    return Err(Error::Config);
                }
                let total: f32 = w.iter().sum();
                if !(total.is_finite() && total > 0.0) {
                    return Err(Error::Config);
                }
                1.0 / total
            }
        };
        Ok(Ensemble {
            members,
            combine,
            inv_total,
            classes,
            input_len,
        })
    }

    /// The members.
    pub fn members(&self) -> &'a [&'a dyn Classifier] {
        self.members
    }

    /// The combination rule.
    pub fn combine(&self) -> Combine<'a> {
        self.combine
    }

    /// Weight of member `m` after normalisation.
    fn weight(&self, m: usize) -> f32 {
        match self.combine {
            Combine::WeightedMean(w) | Combine::WeightedVote(w) => {
                w.get(m).copied().unwrap_or(0.0) * self.inv_total
            }
            _ => self.inv_total,
        }
    }
}

impl Classifier for Ensemble<'_> {
    fn classes(&self) -> usize {
        self.classes
    }

    fn input_len(&self) -> usize {
        self.input_len
    }

    fn scratch_len(&self, batch: usize) -> usize {
        if let Combine::Best(index) = self.combine {
            return self.members.get(index).map_or(0, |m| m.scratch_len(batch));
        }
        let widest = self
            .members
            .iter()
            .map(|m| m.scratch_len(batch))
            .max()
            .unwrap_or(0);
        batch.saturating_mul(self.classes).saturating_add(widest)
    }

    /// Combined class probabilities (see [`Combine`] for each rule's formula). A NaN in a
    /// member's probabilities propagates into the means; in the votes such a member row votes
    /// for class 0.
    ///
    /// # Shapes
    /// - `input`: `[batch, input_len()]`
    /// - `probs`: `[batch, classes()]`
    /// - `scratch`: at least `scratch_len(batch)`, laid out as in [`Ensemble`]'s docs
    ///
    /// # Errors
    /// [`ShapeError::Length`] / [`ShapeError::Dimension`] for wrong lengths or `batch == 0`
    /// (nothing written); a member's error (then `probs` may hold a partial sum).
    fn predict_proba(
        &self,
        batch: usize,
        input: &[f32],
        probs: &mut [f32],
        scratch: &mut [f32],
    ) -> Result<(), Error> {
        let n_out = check_proba_io(self, batch, input.len(), probs.len(), scratch.len())?;
        if let Combine::Best(index) = self.combine {
            return match self.members.get(index) {
                Some(m) => m.predict_proba(batch, input, probs, scratch),
                None => Err(Error::Index {
                    position: index,
                    len: self.members.len(),
                }),
            };
        }
        let vote = matches!(self.combine, Combine::Vote | Combine::WeightedVote(_));
        let (member_probs, member_scratch) = scratch.split_at_mut(n_out);
        probs.fill(0.0);
        for (m, member) in self.members.iter().enumerate() {
            member.predict_proba(batch, input, member_probs, member_scratch)?;
            let w = self.weight(m);
            for (row, acc) in member_probs
                .chunks_exact(self.classes)
                .zip(probs.chunks_exact_mut(self.classes))
            {
                if vote {
                    if let Some(slot) = acc.get_mut(argmax(row)) {
                        *slot += w;
                    }
                } else {
                    for (a, &p) in acc.iter_mut().zip(row) {
                        *a += w * p;
                    }
                }
            }
        }
        Ok(())
    }
}

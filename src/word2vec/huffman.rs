//! The Huffman tree of the hierarchical softmax.

use crate::error::{check_len, Buffer, Error, ShapeError};

/// A Huffman tree over the words' counts (`word2vec.c`'s `CreateBinaryTree`): frequent words get
/// short codes, so the hierarchical softmax does few updates for them.
///
/// Nodes `0..vocab` are the words, `vocab..2·vocab − 1` the inner nodes, the root last. Inner
/// node `vocab + i` owns row `i` of the node vectors (`[vocab − 1, dim]`). Each node but the root
/// stores its parent and the bit of the branch leading to it (1 for the second-smallest of the
/// two merged nodes, as in `word2vec.c`); a word's path is read from its leaf up, so no code
/// table is stored: `4·(2·vocab − 1)` bytes in all.
#[derive(Clone, Copy, Debug)]
pub struct HuffmanTree<'a> {
    /// Per node: parent index `<< 1 | bit`; the root's entry is unused.
    links: &'a [u32],
    vocab: usize,
}

impl<'a> HuffmanTree<'a> {
    /// Length of the `u64` scratch [`build`](Self::build) needs: `2 · vocab`.
    pub const fn work_len(vocab: usize) -> usize {
        vocab.saturating_mul(2)
    }

    /// Length of the `u32` storage of the tree: `2 · vocab − 1`.
    pub const fn tree_len(vocab: usize) -> usize {
        vocab.saturating_mul(2).saturating_sub(1)
    }

    /// Builds the tree of `counts` (word id → count, **non-increasing**, as the vocabulary is
    /// sorted: the linear-time construction of `word2vec.c` relies on it).
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] for fewer than 2 words or more than `2^30`;
    /// [`Error::Config`] if the counts increase somewhere; [`ShapeError::Length`] with
    /// [`Buffer::Scratch`] if `work` is shorter than [`work_len`](Self::work_len) and with
    /// [`Buffer::Table`] if `tree` is not [`tree_len`](Self::tree_len) long.
    pub fn build(counts: &[u64], work: &mut [u64], tree: &'a mut [u32]) -> Result<Self, Error> {
        let vocab = counts.len();
        if !(2..=1 << 30).contains(&vocab) {
            return Err(ShapeError::Dimension.into());
        }
        if counts.windows(2).any(|w| w[1] > w[0]) {
            return Err(Error::Config);
        }
        let nodes = Self::tree_len(vocab);
        if work.len() < Self::work_len(vocab) {
            return Err(ShapeError::Length {
                buffer: Buffer::Scratch,
                expected: Self::work_len(vocab),
                actual: work.len(),
            }
            .into());
        }
        check_len(Buffer::Table, nodes, tree.len())?;

        // work[n]: the count of node n; inner nodes not yet made count as "infinite".
        for (w, c) in work
            .iter_mut()
            .zip(counts.iter().chain(core::iter::repeat(&u64::MAX)))
        {
            *w = *c;
        }
        // Leaves are taken from the rarest up (pos1 going down), inner nodes in the order they
        // are made (pos2 going up), whose counts never decrease: the two smallest are always at
        // one of the two fronts.
        let mut pos1 = vocab as isize - 1;
        let mut pos2 = vocab;
        let mut take = |work: &[u64]| -> usize {
            let leaf = usize::try_from(pos1).ok();
            let leaf_count = leaf.and_then(|l| work.get(l)).copied().unwrap_or(u64::MAX);
            let inner_count = work.get(pos2).copied().unwrap_or(u64::MAX);
            match leaf {
                Some(l) if leaf_count < inner_count => {
                    pos1 -= 1;
                    l
                }
                _ => {
                    pos2 += 1;
                    pos2 - 1
                }
            }
        };
        for i in 0..vocab - 1 {
            let a = take(work);
            let b = take(work);
            let parent = vocab + i;
            let sum = work
                .get(a)
                .copied()
                .unwrap_or(0)
                .saturating_add(work.get(b).copied().unwrap_or(0));
            if let Some(w) = work.get_mut(parent) {
                *w = sum;
            }
            if let Some(l) = tree.get_mut(a) {
                *l = (parent as u32) << 1;
            }
            if let Some(l) = tree.get_mut(b) {
                *l = (parent as u32) << 1 | 1;
            }
        }
        if let Some(root) = tree.get_mut(nodes - 1) {
            *root = 0;
        }
        Ok(HuffmanTree { links: tree, vocab })
    }

    /// Number of words.
    pub fn vocab(&self) -> usize {
        self.vocab
    }

    /// The path of `word` from its leaf to the root: for each inner node above it, the node's
    /// row in the node vectors (`0..vocab − 1`) and the code bit of the branch taken towards the
    /// word. Empty for an id outside `0..vocab`. Its length is the word's code length.
    pub fn path(&self, word: u32) -> Path<'_> {
        let root = Self::tree_len(self.vocab) - 1;
        Path {
            links: self.links,
            vocab: self.vocab,
            node: if (word as usize) < self.vocab {
                word as usize
            } else {
                root
            },
            root,
        }
    }
}

/// The path of a word up its [`HuffmanTree`] (see [`HuffmanTree::path`]).
#[derive(Clone, Debug)]
pub struct Path<'t> {
    links: &'t [u32],
    vocab: usize,
    node: usize,
    root: usize,
}

impl Iterator for Path<'_> {
    /// `(row of the inner node, code bit)`.
    type Item = (u32, u8);

    fn next(&mut self) -> Option<(u32, u8)> {
        if self.node >= self.root {
            return None;
        }
        let link = *self.links.get(self.node)?;
        let parent = (link >> 1) as usize;
        self.node = parent;
        Some((parent.checked_sub(self.vocab)? as u32, (link & 1) as u8))
    }
}

//! Linear transforms behind the Transform nodes: PCA and LDA with scikit-learn's semantics.

pub mod lda;
pub mod pca;

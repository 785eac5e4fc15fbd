"""Properties specific to the neighbour, factorisation and EASE models."""
import numpy as np
import pytest
import scipy.sparse as sp

from recsys.events import Interactions
from recsys.models import BPRModel, EASEModel, ItemKNNModel, NMFModel, SVDModel, UserKNNModel
from recsys.models.neighbours import RowWeighting, keep_top_per_row, sparse_from_arrays, sparse_to_arrays
from tests.conftest import small_events


@pytest.fixture
def interactions(small_catalog) -> Interactions:
    return Interactions.from_events(small_events(), small_catalog.ids)


@pytest.fixture
def random_interactions() -> Interactions:
    rng = np.random.default_rng(0)
    matrix = sp.csr_matrix((rng.random((40, 15)) < 0.25).astype(np.float32))
    return Interactions(matrix=matrix, user_ids=[str(u) for u in range(40)], item_ids=[str(i) for i in range(15)])


def test_keep_top_per_row_keeps_the_largest():
    matrix = sp.csr_matrix(np.array([[0.1, 0.9, 0.5, 0.0], [0.3, 0.0, 0.0, 0.2]], dtype=np.float32))
    pruned = keep_top_per_row(matrix, 2).toarray()
    np.testing.assert_allclose(pruned, [[0.0, 0.9, 0.5, 0.0], [0.3, 0.0, 0.0, 0.2]])


def test_sparse_arrays_round_trip():
    matrix = sp.random(5, 7, density=0.3, format="csr", random_state=0, dtype=np.float32)
    assert (sparse_from_arrays("m", sparse_to_arrays("m", matrix)) != matrix).nnz == 0


def test_item_knn_cosine_is_symmetric_with_zero_diagonal(random_interactions):
    model = ItemKNNModel(neighbours=0).fit(random_interactions)
    similarity = model.matrix.toarray()
    np.testing.assert_allclose(similarity, similarity.T, atol=1e-6)
    assert np.all(np.diag(similarity) == 0)
    assert similarity.max() <= 1.0 + 1e-6


def test_item_knn_keeps_at_most_k_neighbours(random_interactions):
    model = ItemKNNModel(neighbours=3).fit(random_interactions)
    assert np.diff(model.matrix.indptr).max() <= 3


def test_item_knn_bm25_suggests_taste_group(interactions, small_catalog):
    model = ItemKNNModel(similarity="bm25").fit(interactions)
    items, _ = model.similar_items(small_catalog.index["phone-apple-a"], k=2)
    assert {small_catalog.products[i].brand for i in items} == {"apple"}


def test_user_knn_scores_are_neighbour_weighted_votes(random_interactions):
    model = UserKNNModel(neighbours=0).fit(random_interactions)
    history = random_interactions.matrix[0]
    x = random_interactions.matrix.toarray()
    norms = np.linalg.norm(x, axis=1)
    norms[norms == 0] = 1
    cosines = (x / norms[:, None]) @ (x[0] / norms[0])
    np.testing.assert_allclose(model.score(history), cosines @ x, rtol=1e-5)


def test_ease_has_zero_diagonal_and_matches_closed_form(random_interactions):
    model = EASEModel(regularization=3.0).fit(random_interactions)
    assert np.all(np.diag(model.weights) == 0)
    x = random_interactions.matrix.toarray().astype(np.float64)
    precision = np.linalg.inv(x.T @ x + 3.0 * np.eye(x.shape[1]))
    expected = np.eye(x.shape[1]) - precision / np.diag(precision)
    np.fill_diagonal(expected, 0.0)
    np.testing.assert_allclose(model.weights, expected, atol=1e-4)


def test_svd_fold_in_equals_training_user_score(random_interactions):
    for weighting in ("none", "bm25", "tfidf"):
        model = SVDModel(factors=4, weighting=weighting).fit(random_interactions)
        history = random_interactions.matrix[5]
        np.testing.assert_allclose(model.score(history, user=5), model.score(history), rtol=1e-6)
        factors = model.item_factors
        np.testing.assert_allclose(factors.T @ factors, np.eye(4), atol=1e-5)  # orthonormal item space


def test_bpr_folds_in_new_shoppers_toward_their_taste(interactions, small_catalog):
    model = BPRModel(factors=4, iterations=200, learning_rate=0.05).fit(interactions)
    assert model.item_factors.shape[1] == 5  # implicit appends an item-bias column
    history = sp.csr_matrix(
        (np.ones(2, dtype=np.float32), ([0, 0], [small_catalog.index["phone-apple-a"], small_catalog.index["phone-apple-b"]])),
        shape=(1, len(small_catalog.ids)),
    )
    # Items nobody touched keep zero factors (score 0); compare among the items BPR learned about.
    learned = np.asarray(interactions.matrix.sum(axis=0)).ravel() > 0
    top, _ = model.recommend(history, k=2, allowed=learned)
    assert {small_catalog.products[i].brand for i in top} == {"apple"}


def test_batch_scores_equal_row_scores(random_interactions):
    histories = random_interactions.matrix[:6]
    users = np.array([0, 1, 2, -1, -1, 5])
    for model in (ItemKNNModel(), UserKNNModel(), EASEModel(), SVDModel(factors=4), NMFModel(factors=4), BPRModel(factors=4, iterations=5)):
        model.fit(random_interactions)
        batch = model.score_batch(histories, users)
        rows = np.vstack([model.score(histories[i], user=None if users[i] < 0 else int(users[i])) for i in range(6)])
        # NMF's iterative fold-in stops on a batch-wide tolerance, so a batch differs in the 5th digit.
        atol = 1e-4 if model.name == "nmf" else 1e-6
        np.testing.assert_allclose(batch, rows, rtol=1e-5, atol=atol, err_msg=model.name)


def test_nmf_factors_are_non_negative_and_fold_in_is_close(random_interactions):
    model = NMFModel(factors=4, max_iter=500).fit(random_interactions)
    assert model.item_factors.min() >= 0 and model.user_factors.min() >= 0
    folded = model.fold_in(random_interactions.matrix[:3])
    assert folded.min() >= 0
    np.testing.assert_allclose(folded @ model.item_factors.T, model.user_factors[:3] @ model.item_factors.T, atol=0.1)


def test_row_weighting_rejects_unknown_kind(random_interactions):
    with pytest.raises(ValueError, match="weighting"):
        RowWeighting.fit(random_interactions.matrix, "log")


def test_fast_explanations_agree_with_the_generic_one(small_catalog):
    """Item-kNN and content weigh history items from one column or dot product; with unit weights that
    must equal the contract's generic contributions (one full scoring per history item)."""
    from recsys.features import item_feature_matrix
    from recsys.models import ContentModel
    from recsys.models.base import RecommenderModel

    interactions = Interactions.from_events(small_events(), small_catalog.ids).with_item_features(item_feature_matrix(small_catalog))
    for model in (ItemKNNModel().fit(interactions), ContentModel().fit(interactions)):
        for user in range(interactions.matrix.shape[0]):
            history = interactions.matrix[user].copy()
            history.data[:] = 1.0
            for item in range(interactions.matrix.shape[1]):
                fast = model._contributions(history, item)
                np.testing.assert_allclose(fast, RecommenderModel._contributions(model, history, item), rtol=1e-5, atol=1e-6)


def test_als_fold_in_matches_implicits_own_solve(random_interactions):
    from implicit.cpu.als import AlternatingLeastSquares

    from recsys.models import ALSModel

    model = ALSModel(factors=4, iterations=5).fit(random_interactions)
    reference = AlternatingLeastSquares(factors=4, regularization=model.regularization, alpha=model.alpha)
    reference.user_factors, reference.item_factors = model.user_factors, model.item_factors
    rows = random_interactions.matrix[:5]
    expected = reference.recalculate_user(np.arange(5), rows)
    np.testing.assert_allclose(model.fold_in(rows), expected, rtol=1e-3, atol=1e-4)
    # a known shopper's score uses their learned vector; the same row folded in comes close to it
    np.testing.assert_allclose(model.score(rows[0], user=0), model.item_factors @ model.user_factors[0], rtol=1e-5)

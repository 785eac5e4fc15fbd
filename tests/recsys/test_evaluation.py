"""Metrics against hand-computed values (ties included), and the split protocols on toy data."""
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from recsys.evaluation import metrics
from recsys.evaluation.datasets import DatasetError, Sequences, verified_path
from recsys.evaluation.evaluator import evaluate
from recsys.evaluation.protocols import leave_last_two_out, sample_negatives, temporal_split
from recsys.models import ItemKNNModel, PopularityModel


# -- metrics -----------------------------------------------------------------------------------
def test_rank_counts_higher_items_and_half_the_ties():
    competitors = np.array([[0.9, 0.5, 0.5, 0.1], [0.0, 0.0, 0.0, 0.0], [0.1, 0.2, 0.3, -np.inf]])
    ranks = metrics.tie_aware_ranks(competitors, np.array([0.5, 0.0, 1.0]))
    np.testing.assert_allclose(ranks, [1 + 0.5 * 2, 0.5 * 4, 0.0])


def test_all_zero_scores_do_not_win_by_ties():
    # 100 negatives all tied with the target at 0: rank 50, no hit at 10.
    ranks = metrics.tie_aware_ranks(np.zeros((1, 100)), np.zeros(1))
    assert ranks[0] == 50.0
    assert metrics.hit_rate_at_k(ranks, np.array([0]), 1, 10)[0] == 0.0


def test_single_target_hit_and_ndcg():
    ranks = np.array([0.0, 2.0, 9.5, 10.0, 1.5])
    rows = np.arange(5)
    ones = np.ones(5, dtype=int)
    np.testing.assert_allclose(metrics.hit_rate_at_k(ranks, rows, 5, 10), [1, 1, 1, 0, 1])
    expected = [1.0, 1 / np.log2(4), 1 / np.log2(11.5), 0.0, 1 / np.log2(3.5)]
    np.testing.assert_allclose(metrics.ndcg_at_k(ranks, rows, ones, 10), expected)


def test_multi_target_recall_and_ndcg():
    # user 0: relevant items at ranks 0 and 3 of 3 relevant; user 1: one relevant at rank 12.
    ranks = np.array([0.0, 3.0, 20.0, 12.0])
    rows = np.array([0, 0, 0, 1])
    n_relevant = np.array([3, 1])
    np.testing.assert_allclose(metrics.recall_at_k(ranks, rows, n_relevant, 10), [2 / 3, 0.0])
    np.testing.assert_allclose(metrics.recall_at_k(ranks, rows, n_relevant, 20), [2 / 3, 1.0])
    dcg = 1.0 + 1 / np.log2(5)
    ideal = 1.0 + 1 / np.log2(3) + 1 / np.log2(4)
    np.testing.assert_allclose(metrics.ndcg_at_k(ranks, rows, n_relevant, 10), [dcg / ideal, 0.0])
    np.testing.assert_allclose(metrics.ndcg_at_k(ranks, rows, n_relevant, 2), [1.0 / (1.0 + 1 / np.log2(3)), 0.0])
    np.testing.assert_allclose(metrics.hit_rate_at_k(ranks, rows, 2, 10), [1.0, 0.0])


def test_catalog_coverage_ignores_padding():
    assert metrics.catalog_coverage(np.array([[0, 1], [1, 2], [-1, -1]]), 10) == pytest.approx(0.3)


# -- protocols -----------------------------------------------------------------------------------
def toy_sequences() -> Sequences:
    return Sequences(sequences=[np.array([0, 1, 2, 3]), np.array([4, 5]), np.array([5, 6, 7])], n_items=120)


def test_leave_last_two_out_test_stage():
    split = leave_last_two_out(toy_sequences(), stage="test", fit_on_validation=False)
    assert list(split.users) == [0, 2]  # user 1 has < 3 items: training only
    assert [list(r.indices) for r in split.histories] == [[0, 1, 2], [5, 6]]
    assert [list(r.indices) for r in split.targets] == [[3], [7]]
    assert [list(split.train.matrix[u].indices) for u in range(3)] == [[0, 1], [4, 5], [5]]
    fitted_on_val = leave_last_two_out(toy_sequences(), stage="test")
    assert list(fitted_on_val.train.matrix[0].indices) == [0, 1, 2]


def test_leave_last_two_out_validation_stage_never_sees_later_items():
    split = leave_last_two_out(toy_sequences(), stage="validation")
    assert [list(r.indices) for r in split.histories] == [[0, 1], [5]]
    assert [list(r.indices) for r in split.targets] == [[2], [6]]
    assert split.train.matrix[0, 2] == 0 and split.train.matrix[0, 3] == 0


def test_negatives_are_unseen_distinct_and_seeded():
    rated = [np.array([0, 1, 2, 3]), np.array([5, 6, 7])]
    negatives = sample_negatives(rated, 120, n=100, seed=3)
    for row, seen in zip(negatives, rated):
        assert len(set(row)) == 100 and not set(row) & set(seen)
    np.testing.assert_array_equal(negatives, sample_negatives(rated, 120, n=100, seed=3))


def test_temporal_split_uses_the_past_to_predict_liked_future_items():
    ratings = pd.DataFrame(
        {"user": [0, 0, 0, 1, 1, 0, 1, 1, 2, 0], "item": [0, 1, 2, 0, 3, 4, 1, 2, 0, 5],
         "rating": [5, 3, 4, 4, 5, 5, 2, 4, 5, 4], "timestamp": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]}
    )
    split = temporal_split(ratings, quantile=0.5, cutoffs=(2,))
    assert list(split.users) == [0, 1]  # user 2 only appears after the cut
    # cut at the median timestamp 5.5; item 1 by user 1 after the cut was rated 2, so it is no target
    assert [list(r.indices) for r in split.targets] == [[4, 5], [2]]
    assert [list(r.indices) for r in split.histories] == [[0, 1, 2], [0, 3]]


def test_evaluate_counts_ties_and_masks_history():
    seqs = Sequences(sequences=[np.array([0, 1, 2, 3]), np.array([0, 1, 2, 3]), np.array([4, 5, 6, 7])], n_items=120)
    split = leave_last_two_out(seqs, stage="test")
    result = evaluate(ItemKNNModel(neighbours=0).fit(split.train), split, progress=False)
    # Users 0 and 1 share items 0-2 in training but item 3 only as a target: item 3 scores 0, tied with
    # every other unseen item, so it must not count as a hit in the full ranking.
    assert result["full_hit@10"] == 0.0
    popular = evaluate(PopularityModel().fit(split.train), split, progress=False)
    assert 0.0 <= popular["sampled_hit@10"] <= 1.0


def test_missing_dataset_fails_clearly(monkeypatch, tmp_path):
    monkeypatch.setenv("DAOGOU_DATASETS", str(tmp_path))
    with pytest.raises(DatasetError, match="not found"):
        verified_path("movielens-100k")


def test_corrupt_dataset_fails_clearly(monkeypatch, tmp_path):
    (tmp_path / "movielens-100k").mkdir()
    (tmp_path / "movielens-100k" / "u.data").write_text("1\t2\t3\t4\n")
    monkeypatch.setenv("DAOGOU_DATASETS", str(tmp_path))
    with pytest.raises(DatasetError, match="md5"):
        verified_path("movielens-100k")


# -- command line ------------------------------------------------------------------------------------
def _movielens_available() -> bool:
    try:
        verified_path("movielens-100k")
    except DatasetError:
        return False
    return True


@pytest.mark.skipif(not _movielens_available(), reason="shared MovieLens 100K not available")
def test_cli_writes_csv_markdown_and_plot(tmp_path):
    from recsys.evaluate import main

    assert main(["--dataset", "movielens-100k", "--models", "popularity,item_knn:neighbours=0", "--out", str(tmp_path)]) == 0
    frame = pd.read_csv(tmp_path / "movielens-100k.csv")
    assert list(frame["model"]) == ["popularity", "item_knn:neighbours=0"]
    assert {"full_ndcg@10", "full_recall@20", "coverage@10", "fit_seconds"} <= set(frame.columns)
    assert (frame["full_recall@20"] >= frame["full_recall@10"]).all()
    markdown = (tmp_path / "movielens-100k.md").read_text(encoding="utf-8")
    assert "| item_knn:neighbours=0 |" in markdown and "cores" in markdown
    assert (tmp_path / "movielens-100k.png").stat().st_size > 0
    # a second run merges by (split, model) instead of duplicating rows
    main(["--dataset", "movielens-100k", "--models", "popularity", "--out", str(tmp_path)])
    assert len(pd.read_csv(tmp_path / "movielens-100k.csv")) == 2


def test_leave_last_two_out_carries_ordered_sequences():
    split = leave_last_two_out(toy_sequences(), stage="test")
    assert [list(s) for s in split.train.sequences] == [[0, 1, 2], [4, 5], [5, 6]]
    assert [list(s) for s in split.sequences] == [[0, 1, 2], [5, 6]]  # one per evaluated user, in time order
    validation = leave_last_two_out(toy_sequences(), stage="validation")
    assert [list(s) for s in validation.train.sequences] == [[0, 1], [4, 5], [5]]
    assert [list(s) for s in validation.sequences] == [[0, 1], [5]]


def test_leave_last_two_out_sequences_keep_order_not_index_order():
    data = Sequences(sequences=[np.array([9, 3, 7, 1, 5])], n_items=120)
    split = leave_last_two_out(data, stage="test")
    assert list(split.sequences[0]) == [9, 3, 7, 1]
    assert list(split.histories[0].indices) == [1, 3, 7, 9]  # the matrix row forgets the order


def test_temporal_split_sequences_follow_timestamps():
    ratings = pd.DataFrame({"user": [0, 0, 0, 0], "item": [2, 0, 1, 3], "rating": [5, 5, 5, 5], "timestamp": [3, 1, 2, 9]})
    split = temporal_split(ratings, quantile=0.75, cutoffs=(2,))
    assert [list(s) for s in split.sequences] == [[0, 1, 2]]
    assert [list(s) for s in split.train.sequences] == [[0, 1, 2]]

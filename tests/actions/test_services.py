"""The action server's shared recommender picks up retrained models without a restart."""
import os

from actions import services
from recsys.artifacts import METADATA_FILE


def test_newer_artefacts_are_swapped_in_and_bad_ones_leave_the_old_models(small_recommender, small_settings):
    services.set_recommender(small_recommender)
    try:
        ranker = small_recommender.ranker
        assert services.get_recommender() is small_recommender and small_recommender.ranker is ranker

        metadata = small_settings.model_dir / METADATA_FILE
        stamp = metadata.stat().st_mtime
        os.utime(metadata, (stamp + 10, stamp + 10))  # as if `make train` had just finished
        services.get_recommender()
        assert small_recommender.ranker is not ranker  # reloaded from the files

        reloaded = small_recommender.ranker
        (small_settings.model_dir / "gru.npz").write_bytes(b"garbage")
        os.utime(metadata, (stamp + 20, stamp + 20))
        assert services.get_recommender() is small_recommender
        assert small_recommender.ranker is reloaded  # refused: the models in memory keep serving
    finally:
        services.set_recommender(None)

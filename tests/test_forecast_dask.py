"""`forecast_queues(..., backend="dask")` on a real distributed.LocalCluster == local run."""

from __future__ import annotations

import pandas as pd
import pytest

from openwfm.forecast import forecast_queues
from openwfm.forecast.synthetic import synthetic_history

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def history() -> pd.DataFrame:
    return synthetic_history(5, 28, tz="Asia/Manila", seed=31)


def _check_equal(history: pd.DataFrame, client) -> None:
    local = forecast_queues(history, horizon="3d", tz="Asia/Manila")
    dask = forecast_queues(history, horizon="3d", tz="Asia/Manila", backend="dask",
                           client=client, batch_size=2)
    assert dask.chosen == local.chosen
    pd.testing.assert_frame_equal(dask.frame, local.frame)
    pd.testing.assert_frame_equal(dask.accuracy, local.accuracy)


def test_dask_local_cluster_threads_equals_local(history) -> None:
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        assert len(client.scheduler_info()["workers"]) == 2
        _check_equal(history, client)


@pytest.mark.slow
def test_dask_local_cluster_processes_equals_local(history) -> None:
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        _check_equal(history, client)


def test_dask_backend_needs_a_client(history) -> None:
    with pytest.raises(ValueError, match="Client"):
        forecast_queues(history, horizon="1d", backend="dask")


def test_local_processes_equal_one_process(history) -> None:
    one = forecast_queues(history, horizon="3d", tz="Asia/Manila")
    two = forecast_queues(history, horizon="3d", tz="Asia/Manila", n_jobs=2, batch_size=2)
    pd.testing.assert_frame_equal(two.frame, one.frame)
    pd.testing.assert_frame_equal(two.accuracy, one.accuracy)

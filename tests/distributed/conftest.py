import pytest

from tests.distributed.compare import cluster_setup


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A distributed setup (two workers) and an embedded one, for one test module."""
    yield from cluster_setup(tmp_path_factory)

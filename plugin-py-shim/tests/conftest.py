import json
from pathlib import Path

import pytest

VECTORS_PATH = Path(__file__).resolve().parents[2] / "proto" / "testdata" / "vectors.json"


@pytest.fixture(scope="session")
def vectors() -> dict:
    return json.loads(VECTORS_PATH.read_text())


@pytest.fixture(scope="session")
def redis_server():
    from tests.redis_server import RedisServer

    server = RedisServer().start()
    yield server
    server.stop()

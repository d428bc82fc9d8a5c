"""Must NOT type-check: a trade batch where the bars topic wants the user's
BarBatch (tests/byo/run.sh expects mypy's arg-type error)."""

from __future__ import annotations

import acmebus
from acme_protos.ampy.ticks.v1 import ticks_pb2

acmebus.BARS_V1_BARS.route(ticks_pb2.TradeBatch(), acmebus.Env.PROD)

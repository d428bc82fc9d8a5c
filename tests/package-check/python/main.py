"""The Python user of scripts/package-check.

Runs in a fresh venv where the package the installed ampygen generated was
installed with ``pip install OUT[nats]``: nothing of the repository is on
the path. Routes a quote, builds an envelope, encodes and decodes it, checks
that the linked payload types hash to the registry's schemas, and imports
the NATS transport that the ``nats`` extra installs a client for.
"""

import importlib.metadata

import acmebus
import acmebus.nats
from acmebus.pb.acme.quotes.v1 import quotes_pb2


def main() -> None:
    acmebus.verify_linked()
    quote = quotes_pb2.Quote(
        venue="XNAS", symbol="AAPL", bid_micros=189_120_000, ask_micros=189_130_000
    )
    topic = acmebus.QUOTES_V1_QUOTE
    routed = topic.route(quote, acmebus.Env.PROD)
    assert str(routed.subject) == "acme.prod.quotes.v1.XNAS.AAPL", routed
    assert routed.partition_key == "XNAS.AAPL", routed
    record = acmebus.Envelope.build(
        topic, quote, producer="pyuser@1", source="package-check", run_id="r-1"
    ).encode()
    back = acmebus.Envelope.decode(topic, record.headers, record.payload)
    assert back.payload == quote
    assert acmebus.nats.Bus is not None
    version = importlib.metadata.version("acme-bus")
    assert version == "1.2.0", version
    where = acmebus.__file__
    print(
        f"python user: subject {routed.subject}, key {routed.partition_key}, acme-bus {version} from {where}"
    )


if __name__ == "__main__":
    main()

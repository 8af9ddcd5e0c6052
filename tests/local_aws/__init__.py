"""A local AWS for tests and the demo: moto's server on loopback plus a thin
CloudTrail fidelity layer (``tests.local_aws.fidelity``) where moto answers
differently from CloudTrail."""

from tests.local_aws.server import LocalAWS, Call  # noqa: F401

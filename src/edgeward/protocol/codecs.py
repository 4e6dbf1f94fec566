"""One codec per service, chosen by the protocol its botocore model declares."""

from __future__ import annotations

from functools import cache

from edgeward.protocol.catalog import protocol_of
from edgeward.protocol.codec import Codec


@cache
def codec_for(service: str) -> Codec:
    protocol = protocol_of(service)
    if protocol == "query":
        from edgeward.protocol.query import QueryCodec

        return QueryCodec(service)
    if protocol == "json":
        from edgeward.protocol.jsonproto import JsonCodec

        return JsonCodec(service)
    if protocol == "rest-json":
        from edgeward.protocol.restjson import RestJsonCodec

        return RestJsonCodec(service)
    if protocol == "rest-xml":
        from edgeward.protocol.restxml import RestXmlCodec

        return RestXmlCodec(service)
    raise KeyError(f"no codec for protocol {protocol!r} of {service}")

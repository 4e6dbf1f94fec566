"""The IoT policy variables of a credentials request (spec 1.7).

Always the certificate's own: `iot:CertificateId`, `iot:Certificate.Subject.*`, `iot:Certificate.Issuer.*`.
When the device named its thing (`x-amzn-iot-thingname`) and the thing is attached to the certificate, also
`iot:Connection.Thing.*` (AWS documents that sending the header makes them usable; a variable that is absent
makes the statement's resource match nothing, so a policy that needs them refuses devices that omit it).
"""

from __future__ import annotations

from collections.abc import Mapping

from cryptography import x509
from cryptography.x509.oid import NameOID

# IoT's names for the certificate's name attributes (AWS IoT "X.509 certificate policy variables").
_NAME_ATTRIBUTES = {
    NameOID.COMMON_NAME: "CommonName",
    NameOID.ORGANIZATION_NAME: "Organization",
    NameOID.ORGANIZATIONAL_UNIT_NAME: "OrganizationalUnit",
    NameOID.COUNTRY_NAME: "Country",
    NameOID.STATE_OR_PROVINCE_NAME: "StateName",
    NameOID.LOCALITY_NAME: "Locality",
    NameOID.SERIAL_NUMBER: "SerialNumber",
    NameOID.TITLE: "Title",
    NameOID.SURNAME: "Surname",
    NameOID.GIVEN_NAME: "GivenName",
    NameOID.INITIALS: "Initials",
    NameOID.PSEUDONYM: "Pseudonym",
    NameOID.GENERATION_QUALIFIER: "GenerationQualifier",
    NameOID.DN_QUALIFIER: "DistinguishedNameQualifier",
}


def certificate_variables(certificate_id: str, der: bytes) -> dict[str, str]:
    """`iot:CertificateId` and the subject and issuer attributes of the certificate (first value of each).

    Remembered by certificate id (the SHA-256 of `der`, so an entry can never be wrong): a device asks again
    and again with the same certificate, and parsing it costs more than the rest of its policy check.
    """
    found = _VARIABLES.get(certificate_id)
    if found is None:
        found = _parse_variables(certificate_id, der)
        if len(_VARIABLES) >= _MAX_REMEMBERED:
            _VARIABLES.clear()
        _VARIABLES[certificate_id] = found
    return dict(found)


_MAX_REMEMBERED = 10_000
_VARIABLES: dict[str, dict[str, str]] = {}


def _parse_variables(certificate_id: str, der: bytes) -> dict[str, str]:
    found = {"iot:CertificateId": certificate_id}
    try:
        certificate = x509.load_der_x509_certificate(der)
    except ValueError:  # the TLS layer accepted it, so this does not happen; the id alone still serves
        return found
    for prefix, name in (("Subject", certificate.subject), ("Issuer", certificate.issuer)):
        for attribute in name:
            label = _NAME_ATTRIBUTES.get(attribute.oid)
            value = attribute.value
            if label is not None and isinstance(value, str):
                found.setdefault(f"iot:Certificate.{prefix}.{label}", value)
    return found


def thing_variables(name: str, thing_type_name: str | None, attributes: Mapping[str, str]) -> dict[str, str]:
    """`iot:Connection.Thing.*` of the thing the device named (it is attached: the caller checked)."""
    found = {"iot:Connection.Thing.ThingName": name, "iot:Connection.Thing.IsAttached": "true"}
    if thing_type_name:
        found["iot:Connection.Thing.ThingTypeName"] = thing_type_name
    for key, value in attributes.items():
        found[f"iot:Connection.Thing.Attributes[{key}]"] = value
    return found

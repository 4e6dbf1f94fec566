"""S3's error vocabulary: codes, statuses and the messages S3 itself sends (rest-xml `<Error>` extras as fields)."""

from __future__ import annotations

from edgeward.core.errors import ServiceError

MIN_PART_SIZE = 5 * 1024 * 1024


def no_such_bucket(bucket: str) -> ServiceError:
    return ServiceError("NoSuchBucket", "The specified bucket does not exist", 404, fields={"BucketName": bucket})


def no_such_key(key: str) -> ServiceError:
    return ServiceError("NoSuchKey", "The specified key does not exist.", 404, fields={"Key": key})


def no_such_upload(upload_id: str) -> ServiceError:
    return ServiceError(
        "NoSuchUpload",
        "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted"
        " or completed.",
        404,
        fields={"UploadId": upload_id},
    )


def no_such_bucket_policy(bucket: str) -> ServiceError:
    return ServiceError("NoSuchBucketPolicy", "The bucket policy does not exist", 404, fields={"BucketName": bucket})


def bucket_already_exists(bucket: str) -> ServiceError:
    return ServiceError(
        "BucketAlreadyExists",
        "The requested bucket name is not available. The bucket namespace is shared by all users of the system."
        " Please select a different name and try again.",
        409,
        fields={"BucketName": bucket},
    )


def bucket_already_owned_by_you(bucket: str) -> ServiceError:
    return ServiceError(
        "BucketAlreadyOwnedByYou",
        "Your previous request to create the named bucket succeeded and you already own it.",
        409,
        fields={"BucketName": bucket},
    )


def bucket_not_empty(bucket: str) -> ServiceError:
    return ServiceError(
        "BucketNotEmpty", "The bucket you tried to delete is not empty", 409, fields={"BucketName": bucket}
    )


def invalid_bucket_name(bucket: str) -> ServiceError:
    return ServiceError("InvalidBucketName", "The specified bucket is not valid.", 400, fields={"BucketName": bucket})


def key_too_long(size: int, limit: int) -> ServiceError:
    return ServiceError(
        "KeyTooLongError", "Your key is too long", 400, fields={"Size": str(size), "MaxSizeAllowed": str(limit)}
    )


def invalid_argument(message: str, name: str = "", value: str = "") -> ServiceError:
    fields = {"ArgumentName": name, "ArgumentValue": value} if name else {}
    return ServiceError("InvalidArgument", message, 400, fields=fields)


def invalid_request(message: str) -> ServiceError:
    return ServiceError("InvalidRequest", message, 400)


def malformed_xml() -> ServiceError:
    return ServiceError(
        "MalformedXML",
        "The XML you provided was not well-formed or did not validate against our published schema",
        400,
    )


def malformed_policy(message: str) -> ServiceError:
    return ServiceError("MalformedPolicy", message, 400)


def illegal_location_constraint(constraint: str | None) -> ServiceError:
    shown = constraint or "unspecified"
    return ServiceError(
        "IllegalLocationConstraintException",
        f"The {shown} location constraint is incompatible for the region specific endpoint this request was sent to.",
        400,
    )


def invalid_range(requested: str, size: int) -> ServiceError:
    return ServiceError(
        "InvalidRange",
        "The requested range is not satisfiable",
        416,
        fields={"RangeRequested": requested, "ActualObjectSize": str(size)},
        headers={"Content-Range": f"bytes */{size}"},
    )


def precondition_failed(condition: str) -> ServiceError:
    return ServiceError(
        "PreconditionFailed",
        "At least one of the pre-conditions you specified did not hold",
        412,
        fields={"Condition": condition},
    )


def not_modified(etag: str, last_modified: str) -> ServiceError:
    return ServiceError("NotModified", "Not Modified", 304, headers={"ETag": etag, "Last-Modified": last_modified})


def bad_digest(message: str) -> ServiceError:
    return ServiceError("BadDigest", message, 400)


def invalid_digest() -> ServiceError:
    return ServiceError("InvalidDigest", "The Content-MD5 you specified is not valid.", 400)


def invalid_part() -> ServiceError:
    return ServiceError(
        "InvalidPart",
        "One or more of the specified parts could not be found.  The part may not have been uploaded, or the"
        " specified entity tag may not match the part's entity tag.",
        400,
    )


def invalid_part_order() -> ServiceError:
    return ServiceError(
        "InvalidPartOrder",
        "The list of parts was not in ascending order. Parts must be ordered by part number.",
        400,
    )


def entity_too_small(size: int, part_number: int, etag: str) -> ServiceError:
    return ServiceError(
        "EntityTooSmall",
        "Your proposed upload is smaller than the minimum allowed size",
        400,
        fields={
            "ProposedSize": str(size),
            "MinSizeAllowed": str(MIN_PART_SIZE),
            "PartNumber": str(part_number),
            "ETag": etag,
        },
    )


def metadata_too_large(size: int, limit: int) -> ServiceError:
    return ServiceError(
        "MetadataTooLarge",
        "Your metadata headers exceed the maximum allowed metadata size.",
        400,
        fields={"Size": str(size), "MaxSizeAllowed": str(limit)},
    )

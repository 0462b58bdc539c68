"""Copy-fidelity rules as pure functions: which checksum proves a copy, what attributes the
destination gets, which layouts a destination takes, and when hedging is off."""

from __future__ import annotations

import pytest

from partcopy import Copier
from partcopy.checksums import ObjectChecksum
from partcopy.engine.fidelity import (
    FidelityOptions,
    check_fidelity,
    choose_checksum,
    destination_attributes,
)
from partcopy.engine.hedge import DEFAULT_HEDGE, HedgedPart
from partcopy.errors import PlanError, UsageError
from partcopy.planners import get_profile, plan_layout
from partcopy.providers import get_provider
from partcopy.store.memory import MemoryStore
from partcopy.transports.base import ObjectAttributes, ObjectInfo, SSECustomerKey
from partcopy.transports.memory import MemoryTransport

MiB = 1024 * 1024
CRC = ObjectChecksum("CRC64NVME", "mOyt7Jv3NG4=")


def test_auto_uses_the_sources_full_object_checksum_where_the_row_supports_it() -> None:
    assert choose_checksum("auto", CRC, "s3", relay=False).source == CRC
    assert choose_checksum("auto", CRC, "obs", relay=False).algorithm is None
    composite = ObjectChecksum("CRC32", "AAAAAA==", "COMPOSITE", 3)
    assert choose_checksum("auto", composite, "s3", relay=False).algorithm is None
    relay = choose_checksum("auto", None, "s3", relay=True)
    assert (relay.algorithm, relay.source) == ("CRC64NVME", None)
    assert choose_checksum("off", CRC, "s3", relay=True).algorithm is None
    asked = choose_checksum("crc32c", CRC, "s3", relay=False)
    assert (asked.algorithm, asked.source) == ("CRC32C", None)  # nothing of the source's to equal


def test_encryption_is_kept_renamed_across_dialects_or_replaced() -> None:
    kms = ObjectAttributes(sse="aws:kms", sse_kms_key_id="key-1", tagging="a=1")
    same = destination_attributes(
        kms,
        FidelityOptions(),
        source_dialect="s3",
        destination=get_provider("s3"),
        source_tags=None,
        checksum=None,
    )
    assert (same.sse, same.sse_kms_key_id, same.tagging) == ("aws:kms", "key-1", "a=1")
    obs = destination_attributes(
        kms,
        FidelityOptions(),
        source_dialect="s3",
        destination=get_provider("obs"),
        source_tags="b=2",
        checksum=None,
    )
    assert (obs.sse, obs.sse_kms_key_id, obs.tagging) == ("kms", None, None)  # OBS: no tags
    chosen = destination_attributes(
        kms,
        FidelityOptions(sse="AES256", tags="", acl="private"),
        source_dialect="s3",
        destination=get_provider("s3"),
        source_tags="b=2",
        checksum="CRC32",
    )
    assert (chosen.sse, chosen.sse_kms_key_id, chosen.tagging) == ("AES256", None, "")
    assert (chosen.acl, chosen.checksum_algorithm) == ("private", "CRC32")
    sse_c = destination_attributes(
        ObjectAttributes(sse="aws:kms", sse_c=SSECustomerKey(b"k" * 32)),
        FidelityOptions(),
        source_dialect="s3",
        destination=get_provider("s3"),
        source_tags=None,
        checksum=None,
    )
    assert sse_c.sse is None  # SSE-C replaces service-side encryption


@pytest.mark.parametrize(
    ("options", "dialect", "row", "named"),
    [
        (FidelityOptions(checksum="sha256"), "cos", "cos", "'sha256'"),
        (FidelityOptions(checksum="crc32c"), "s3", "seaweedfs", "supported: crc32, crc64nvme"),
        (FidelityOptions(tags="a=1"), "qingstor", "qingstor", "--tags"),
        (FidelityOptions(tags="a=1"), "obs", "obs", "--tags"),
        (FidelityOptions(acl="private"), "qingstor", "qingstor", "'private'"),
        (FidelityOptions(sse="aws:kms"), "qingstor", "qingstor", "no KMS"),
        (FidelityOptions(sse="aws:kms"), "s3", "gcs", "no KMS"),
        (FidelityOptions(tags="&".join(f"k{i}=v" for i in range(11))), "s3", "s3", "11 tags"),
        (FidelityOptions(verify_content="most"), "s3", "s3", "'most'"),  # type: ignore[arg-type]
    ],
)
def test_what_a_destination_row_cannot_take_is_a_usage_error(
    options: FidelityOptions, dialect: str, row: str, named: str
) -> None:
    with pytest.raises(UsageError, match=named):
        check_fidelity(
            options,
            destination=dialect,  # type: ignore[arg-type]
            profile=row,
            destination_sse_c=False,
            part_size=None,
        )


def test_layouts_are_kept_exactly_or_refused_with_the_reason() -> None:
    kept = plan_layout([5 * MiB, 7 * MiB, 5 * MiB, 1], get_profile("s3"))
    assert [(t.first, t.last) for t in kept.tasks()] == [
        (0, 5 * MiB - 1),
        (5 * MiB, 12 * MiB - 1),
        (12 * MiB, 17 * MiB - 1),
        (17 * MiB, 17 * MiB),
    ]
    assert kept.as_dict()["part_count"] == 4
    with pytest.raises(PlanError, match="part 2 has 1048576 bytes, below"):
        plan_layout([5 * MiB, MiB, 5 * MiB], get_profile("s3"))
    with pytest.raises(PlanError, match="10001 parts"):
        plan_layout([5 * MiB] * 10_001, get_profile("s3"))
    with pytest.raises(PlanError, match="above the destination's"):
        plan_layout([6 * 1024**3, 1], get_profile("s3"))
    assert plan_layout([MiB, 1], get_profile("cos")).part_count == 2  # COS takes 1 MiB parts


@pytest.mark.parametrize(("sse_c", "hedged"), [(None, True), (SSECustomerKey(b"k" * 32), False)])
def test_hedging_only_where_part_etags_are_md5s(sse_c: SSECustomerKey | None, hedged: bool) -> None:
    copier = Copier(transport=MemoryTransport(MemoryStore("s3")), hedge=DEFAULT_HEDGE)
    job = copier.prepare("s3://b/src", "s3://b/dst", destination_sse_c=sse_c)
    info = ObjectInfo("b", "src", 20 * MiB, '"' + "0" * 32 + '"')
    assert isinstance(job._operation(info), HedgedPart) is hedged
    assert job.md5_etags(info) is hedged


def test_list_parts_and_copy_answers_carry_part_checksums() -> None:
    from partcopy.transports.parse import copy_verdict, parse_list_parts, parse_tagging

    page = parse_list_parts(
        b"<ListPartsResult><IsTruncated>false</IsTruncated><Part><PartNumber>1</PartNumber>"
        b"<ETag>&quot;abc&quot;</ETag><Size>5</Size><ChecksumCRC64NVME>mOyt7Jv3NG4=</ChecksumCRC64NVME>"
        b"</Part></ListPartsResult>"
    )
    assert page.parts[0].checksum == "mOyt7Jv3NG4="
    verdict = copy_verdict(
        b"<CopyPartResult><LastModified>2026-12-04T00:00:00.000Z</LastModified>"
        b"<ETag>&quot;abc&quot;</ETag><ChecksumCRC32>AAAAAA==</ChecksumCRC32></CopyPartResult>"
    )
    assert (verdict.etag, verdict.checksum) == ('"abc"', "AAAAAA==")
    tags = parse_tagging(
        b"<Tagging><TagSet><Tag><Key>a b</Key><Value>x&amp;y</Value></Tag>"
        b"<Tag><Key>k</Key><Value></Value></Tag></TagSet></Tagging>"
    )
    assert tags == "a%20b=x%26y&k="


@pytest.mark.parametrize(
    ("storage_class", "source", "destination", "carried"),
    [
        ("STANDARD_IA", "s3", "s3", "STANDARD_IA"),  # one dialect: as the source says
        ("WARM", "obs", "obs", "WARM"),
        ("STANDARD_IA", "s3", "cos", "STANDARD_IA"),  # a name both know
        ("STANDARD_IA", "s3", "obs", None),  # OBS names it WARM: its default instead
        ("WARM", "obs", "s3", None),  # S3 would refuse WARM (InvalidStorageClass)
        ("COLD", "obs", "qingstor", None),
        ("DEEP_ARCHIVE", "s3", "obs", "DEEP_ARCHIVE"),
        (None, "s3", "obs", None),
    ],
)
def test_a_storage_class_crosses_dialects_only_by_a_name_the_destination_knows(
    storage_class: str | None, source: str, destination: str, carried: str | None
) -> None:
    from partcopy.engine.fidelity import carried_storage_class

    assert carried_storage_class(storage_class, source, destination) == carried  # type: ignore[arg-type]


def test_sse_none_asks_for_no_encryption_whatever_the_source_had() -> None:
    kms = ObjectAttributes(sse="aws:kms", sse_kms_key_id="key-1")
    plain = destination_attributes(
        kms,
        FidelityOptions(sse="none"),
        source_dialect="cos",
        destination=get_provider("qingstor"),
        source_tags=None,
        checksum=None,
    )
    assert (plain.sse, plain.sse_kms_key_id) == (None, None)
    check_fidelity(
        FidelityOptions(sse="none"),
        destination="qingstor",
        profile="qingstor",
        destination_sse_c=True,  # no server-side encryption asked: SSE-C stays possible
        part_size=None,
    )

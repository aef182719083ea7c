"""The edge's control-character check, walking any request message by its descriptor."""

from __future__ import annotations

import pytest
from crm.v1 import channel_pb2, customer_pb2, identity_pb2, interaction_pb2, note_pb2
from crm.v1 import customer_history_service_pb2 as pb
from google.protobuf.message import Message

from services.crm.api.control_characters import control_character_violations


def fields(request: Message) -> dict[str, str]:
    return {v.field: v.reason for v in control_character_violations(request)}


# NUL, the rest of C0, DEL and C1 (NEL, CSI).
@pytest.mark.parametrize("bad", ["\x00", "\x01", "\x1b", "\x1f", "\x7f", "\x80", "\x85", "\x9f"])
def test_every_c0_and_c1_control_character_is_refused(bad: str) -> None:
    request = pb.GetCustomerRequest(name=f"customers/{bad}")
    assert fields(request) == {"name": "CONTROL_CHARACTER"}


@pytest.mark.parametrize("layout", ["\t", "\n", "\r"])
def test_tab_and_line_breaks_are_refused_in_one_line_fields(layout: str) -> None:
    request = pb.CreateCustomerRequest(customer=customer_pb2.Customer(display_name=f"Ada{layout}"))
    assert fields(request) == {"customer.display_name": "CONTROL_CHARACTER"}


@pytest.mark.parametrize("text", ["é ü ß 漢字 🙂", "\u00a0", "\u200b", "\xa0\xff"])
def test_printable_and_other_unicode_text_passes(text: str) -> None:
    request = pb.CreateCustomerRequest(customer=customer_pb2.Customer(display_name=text))
    assert fields(request) == {}


def test_multi_line_fields_allow_tab_and_line_breaks_only() -> None:
    text = "line one\r\n\tline two\n"
    chat = interaction_pb2.ChatDetails(messages=[interaction_pb2.ChatMessage(text=text)])
    request = pb.RecordInteractionRequest(
        interaction=interaction_pb2.Interaction(
            channel=channel_pb2.CHANNEL_CHAT, summary=text, body=text, chat=chat
        )
    )
    assert fields(request) == {}
    assert fields(pb.AddNoteRequest(note=note_pb2.Note(text=text))) == {}
    assert fields(pb.MergeCustomersRequest(reason=text, evidence=text)) == {}
    assert fields(pb.AddNoteRequest(note=note_pb2.Note(text="a\x00b"))) == {
        "note.text": "CONTROL_CHARACTER"
    }
    assert fields(pb.MergeCustomersRequest(evidence="\x0c")) == {"evidence": "CONTROL_CHARACTER"}


def test_every_reason_a_person_writes_may_span_lines() -> None:
    text = "asked twice\non the phone"
    for request in (
        pb.LinkIdentityRequest(reason=text),
        pb.UnlinkIdentityRequest(reason=text),
        pb.MergeCustomersRequest(reason=text),
        pb.UnmergeCustomerRequest(reason=text),
        pb.UpdateCustomerRequest(reason=text),
    ):
        assert fields(request) == {}, type(request).__name__


def test_nested_repeated_and_map_fields_are_named_by_their_proto_paths() -> None:
    messages = [interaction_pb2.ChatMessage(text=t) for t in ["ok", "ok", "nul\x00"]]
    request = pb.RecordInteractionRequest(
        identity=identity_pb2.Identity(
            social=identity_pb2.SocialHandle(platform="x", handle="a\nb")
        ),
        interaction=interaction_pb2.Interaction(
            tags=["ok", "b\x01d"], chat=interaction_pb2.ChatDetails(messages=messages)
        ),
    )
    assert fields(request) == {
        "identity.social.handle": "CONTROL_CHARACTER",
        "interaction.tags[1]": "CONTROL_CHARACTER",
        "interaction.chat.messages[2].text": "CONTROL_CHARACTER",
    }


def test_import_records_are_left_to_be_refused_one_by_one() -> None:
    bad = pb.RecordInteractionRequest(request_id="r\x00")
    request = pb.ImportInteractionsRequest(interactions=[pb.RecordInteractionRequest(), bad])
    assert fields(request) == {}
    assert fields(bad) == {"request_id": "CONTROL_CHARACTER"}


def test_map_values_are_named_by_key_and_a_bad_key_by_the_map() -> None:
    customer = customer_pb2.Customer(
        attributes={"tier": "gold\x00", "ad\x00dress": "x", "note": "two\nlines"}
    )
    assert fields(pb.CreateCustomerRequest(customer=customer)) == {
        "customer.attributes[tier]": "CONTROL_CHARACTER",
        "customer.attributes": "CONTROL_CHARACTER",
    }


def test_an_empty_request_has_nothing_to_refuse() -> None:
    assert fields(pb.RecordInteractionRequest()) == {}

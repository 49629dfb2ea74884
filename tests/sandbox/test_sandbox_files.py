"""files_upload_v2 against the emulator: the upload URL, the bytes, the message with the file."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Callable

from slack_sdk import WebClient

from sandbox import Emulator

Err = Callable[..., str]
PNG = b"\x89PNG\r\n\x1a\n" + b"chart" * 100


def test_files_upload_v2_shares_the_file_in_the_channel(client: WebClient, emu: Emulator) -> None:
    result = client.files_upload_v2(
        channel="C0CRISES",
        content=PNG,
        filename="digest.png",
        title="Promises kept",
        initial_comment="This week's chart",
    )
    file_id = result["file"]["id"]
    assert [c.method for c in emu.calls] == [
        "files.getUploadURLExternal",
        "files.completeUploadExternal",
    ]
    assert emu.calls_to("files.getUploadURLExternal")[0].args["length"] == str(len(PNG))
    message = emu.messages("C0CRISES")[-1]
    assert message.user == "U0BOT" and message.text == "This week's chart"
    assert message.files is not None and [f["id"] for f in message.files] == [file_id]
    shown = message.files[0]
    assert shown["title"] == "Promises kept" and shown["mimetype"] == "image/png"
    # The page shows the image from url_private: the bytes as uploaded.
    with urllib.request.urlopen(shown["url_private"], timeout=5) as answer:
        assert answer.headers["Content-Type"] == "image/png"
        assert answer.read() == PNG
    history = client.conversations_history(channel="C0CRISES", limit=1)["messages"][0]
    assert history["files"][0]["id"] == file_id
    info = client.files_info(file=file_id)["file"]
    assert info["channels"] == ["C0CRISES"] and info["size"] == len(PNG)


def test_upload_url_flow_by_hand_and_its_errors(
    client: WebClient, emu: Emulator, slack_error: Err
) -> None:
    assert slack_error(client.files_getUploadURLExternal, filename="", length=3) == (
        "invalid_arguments"
    )
    assert slack_error(client.files_getUploadURLExternal, filename="a.png", length=0) == (
        "missing_argument"
    )
    assert slack_error(
        client.files_getUploadURLExternal, filename="a.png", length=3, alt_txt="x" * 1001
    ) == ("alt_txt_too_large")
    got = client.files_getUploadURLExternal(filename="a.png", length=3)
    assert got["upload_url"].startswith(emu.url + "/upload/v1/")
    # Completing before the bytes arrived: Slack has no such file yet.
    files = [{"id": got["file_id"], "title": "a"}]
    assert slack_error(client.files_completeUploadExternal, files=files) == "file_not_found"
    request = urllib.request.Request(got["upload_url"], data=b"abc", method="POST")
    with urllib.request.urlopen(request, timeout=5) as answer:
        assert answer.status == 200 and answer.read() == b"OK - 3"
    # The bot is not in #escalations: not_in_channel, and the file stays uncompleted.
    assert (
        slack_error(client.files_completeUploadExternal, files=files, channel_id="C0ESCAL")
        == "not_in_channel"
    )
    assert (
        slack_error(client.files_completeUploadExternal, files=files, channel_id="C0NOPE")
        == "channel_not_found"
    )
    # Without a channel the file is private: no message anywhere.
    before = sum(len(emu.messages(c)) for c in ("C0CRISES", "C0GENERAL"))
    client.files_completeUploadExternal(files=files)
    assert sum(len(emu.messages(c)) for c in ("C0CRISES", "C0GENERAL")) == before
    assert client.files_info(file=got["file_id"])["file"]["channels"] == []
    # A completed file's upload URL takes nothing more; an unknown one never did.
    for url in (got["upload_url"], emu.url + "/upload/v1/nope"):
        try:
            urllib.request.urlopen(urllib.request.Request(url, data=b"x", method="POST"))
            raise AssertionError("the upload URL accepted bytes")
        except urllib.error.HTTPError as error:
            assert error.code == 404
    assert slack_error(client.files_completeUploadExternal, files=files) == "file_not_found"
    assert slack_error(client.files_completeUploadExternal, files=[]) == "invalid_arguments"

"""files.getUploadURLExternal, files.completeUploadExternal and files.info: the upload flow
``files_upload_v2`` uses (the bytes themselves are POSTed to the upload URL, see Emulator)."""

from __future__ import annotations

import secrets

from sandbox.api_chat import parse_blocks, require_can_post, resolve_post_target
from sandbox.apicommon import (
    Caller,
    Method,
    SlackApiError,
    arg_json,
    arg_list,
    arg_str,
    error_with_detail,
)
from sandbox.workspace import JSON, Channel, File, Message, Workspace

# Slack's limits: a file of at most 1 GB, a description of at most 1,000 characters.
MAX_LENGTH = 1024**3
MAX_ALT_TXT = 1000


def get_upload_url_external(ws: Workspace, caller: Caller, args: JSON) -> JSON:
    """files.getUploadURLExternal: a file id and the URL its bytes are POSTed to."""
    filename = arg_str(args, "filename")
    if not filename:
        raise error_with_detail("invalid_arguments", "missing required field: filename")
    raw_length = arg_str(args, "length")
    if not raw_length:
        raise error_with_detail("invalid_arguments", "missing required field: length")
    try:
        length = int(raw_length)
    except ValueError:
        raise error_with_detail("invalid_arguments", "length must be an integer") from None
    if length <= 0:
        raise SlackApiError("missing_argument")
    if length > MAX_LENGTH:
        raise SlackApiError("file_upload_size_restricted")
    alt_txt = arg_str(args, "alt_txt")
    if len(alt_txt) > MAX_ALT_TXT:
        raise SlackApiError("alt_txt_too_large")
    with ws.mutate():
        upload_id = secrets.token_urlsafe(12)
        file = File(
            id=ws.new_id("F"),
            name=filename,
            length=length,
            user=caller.user_id,
            created=int(ws.now()),
            upload_id=upload_id,
            alt_txt=alt_txt,
        )
        ws.files[file.id] = file
        ws.uploads[upload_id] = file.id
    return {"upload_url": f"{ws.base_url}/upload/v1/{upload_id}", "file_id": file.id}


def receive_upload(ws: Workspace, upload_id: str, content: bytes) -> tuple[int, str]:
    """The POST of a file's bytes to its upload URL: (HTTP status, body), as Slack answers."""
    with ws.mutate():
        file_id = ws.uploads.get(upload_id)
        file = ws.files.get(file_id or "")
        if file is None or file.completed:
            return 404, "not_found"
        file.content = content
    return 200, f"OK - {len(content)}"


def complete_upload_external(ws: Workspace, caller: Caller, args: JSON) -> JSON:
    """files.completeUploadExternal: the files are made; with ``channel_id`` (or ``channels``)
    they are shared there in one message carrying ``initial_comment``; without, private."""
    wanted = arg_json(args, "files", error="invalid_arguments")
    if not isinstance(wanted, list) or not wanted:
        raise error_with_detail("invalid_arguments", "missing required field: files")
    targets = arg_list(args, "channels")
    if arg_str(args, "channel_id"):
        targets = [arg_str(args, "channel_id"), *targets]
    thread_ts = arg_str(args, "thread_ts")
    if thread_ts and len(targets) > 1:
        raise error_with_detail("invalid_arguments", "thread_ts takes exactly one channel")
    comment = arg_str(args, "initial_comment")
    # Slack ignores blocks when there is an initial comment.
    blocks = None if comment else parse_blocks(args)
    with ws.mutate():
        files: list[File] = []
        for item in wanted:
            file = ws.files.get(str(item.get("id", ""))) if isinstance(item, dict) else None
            if file is None or file.user != caller.user_id or file.completed:
                raise SlackApiError("file_not_found")
            if file.content is None:
                # The bytes never reached the upload URL.
                raise SlackApiError("file_not_found")
            files.append(file)
        channels: list[Channel] = [resolve_post_target(ws, caller, t) for t in targets]
        for ch in channels:
            require_can_post(ws, caller, ch)
        for file, item in zip(files, wanted, strict=True):
            file.title = str(item.get("title") or file.name)
            file.completed = True
            file.channels = [ch.id for ch in channels]
        for ch in channels:
            ws.add_message(
                Message(
                    ts=ws.next_ts(),
                    channel=ch.id,
                    user=caller.user_id,
                    text=comment,
                    blocks=blocks,
                    bot_id=caller.bot_id,
                    thread_ts=thread_ts or None,
                    files=[f.to_api(ws.team.id, ws.base_url) for f in files],
                )
            )
        return {"files": [{"id": f.id, "title": f.title} for f in files]}


def files_info(ws: Workspace, caller: Caller, args: JSON) -> JSON:
    """files.info: a completed file its uploader or a member of a channel it is in can see."""
    with ws.lock:
        file = ws.files.get(arg_str(args, "file"))
        visible = file is not None and (
            file.user == caller.user_id
            or any(caller.user_id in ws.channels[c].members for c in file.channels)
        )
        if file is None or not file.completed or not visible:
            raise SlackApiError("file_not_found")
        return {"file": file.to_api(ws.team.id, ws.base_url), "comments": []}


def file_content(ws: Workspace, team_and_file: str) -> File | None:
    """The completed file a ``url_private`` (``/files-pri/<team>-<file id>/<name>``) names."""
    _, _, file_id = team_and_file.rpartition("-")
    with ws.lock:
        file = ws.files.get(file_id)
        return file if file is not None and file.completed else None


METHODS: dict[str, Method] = {
    "files.getUploadURLExternal": get_upload_url_external,
    "files.completeUploadExternal": complete_upload_external,
    "files.info": files_info,
}

"""The state model: teams, users, channels, messages, pins and views (plain dataclasses)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]


@dataclass
class Team:
    """A Slack team (workspace or an external organisation)."""

    id: str
    name: str
    domain: str
    email_domain: str = ""

    def to_api(self) -> JSON:
        """Return the team object as team.info shows it."""
        return {
            "id": self.id,
            "name": self.name,
            "domain": self.domain,
            "email_domain": self.email_domain,
            "icon": {"image_default": True},
        }


@dataclass
class User:
    """A workspace member, a bot user or an external (Slack Connect) user."""

    id: str
    name: str
    real_name: str
    team_id: str
    tz: str = "America/Los_Angeles"
    tz_label: str = "Pacific Standard Time"
    tz_offset: int = -28800
    email: str | None = None
    is_bot: bool = False
    bot_id: str | None = None
    is_stranger: bool = False
    # Guests: multi-channel guests are restricted; single-channel guests are both.
    is_restricted: bool = False
    is_ultra_restricted: bool = False
    is_admin: bool = False
    deleted: bool = False
    display_name: str = ""

    def to_api(self) -> JSON:
        """Return the user object as users.info shows it."""
        profile: JSON = {
            "real_name": self.real_name,
            "real_name_normalized": self.real_name,
            "display_name": self.display_name or self.name,
            "display_name_normalized": self.display_name or self.name,
            "team": self.team_id,
            "image_48": f"https://avatars.sandbox.invalid/{self.id}_48.png",
        }
        # Slack shows an external person's email only to their own organisation.
        if self.email and not self.is_bot and not self.is_stranger:
            profile["email"] = self.email
        if self.bot_id:
            profile["bot_id"] = self.bot_id
        out: JSON = {
            "id": self.id,
            "team_id": self.team_id,
            "name": self.name,
            "deleted": self.deleted,
            "real_name": self.real_name,
            "tz": self.tz,
            "tz_label": self.tz_label,
            "tz_offset": self.tz_offset,
            "profile": profile,
            "is_admin": self.is_admin,
            "is_owner": False,
            "is_bot": self.is_bot,
            "is_app_user": False,
            "is_restricted": self.is_restricted or self.is_ultra_restricted,
            "is_ultra_restricted": self.is_ultra_restricted,
            "updated": 1700000000,
        }
        if self.is_stranger:
            out["is_stranger"] = True
        return out


@dataclass
class TextSetting:
    """A channel topic or purpose."""

    value: str = ""
    creator: str = ""
    last_set: int = 0

    def to_api(self) -> JSON:
        """Return the Slack shape {value, creator, last_set}."""
        return {"value": self.value, "creator": self.creator, "last_set": self.last_set}


@dataclass
class Channel:
    """A public or private channel, a DM (im) or a group DM (mpim)."""

    id: str
    name: str
    created: int
    creator: str
    is_private: bool = False
    is_im: bool = False
    is_mpim: bool = False
    is_general: bool = False
    is_archived: bool = False
    is_ext_shared: bool = False
    im_user: str | None = None
    topic: TextSetting = field(default_factory=TextSetting)
    purpose: TextSetting = field(default_factory=TextSetting)
    members: set[str] = field(default_factory=set)

    def to_api(self, viewer: str | None = None, *, num_members: bool = False) -> JSON:
        """Return the conversation object as conversations.info shows it to `viewer`."""
        if self.is_im:
            return {
                "id": self.id,
                "created": self.created,
                "is_im": True,
                "is_org_shared": False,
                "user": self.im_user,
                "is_user_deleted": False,
                "priority": 0,
            }
        out: JSON = {
            "id": self.id,
            "name": self.name,
            "name_normalized": self.name,
            "is_channel": not self.is_private and not self.is_mpim,
            "is_group": self.is_private and not self.is_mpim,
            "is_im": False,
            "is_mpim": self.is_mpim,
            "is_private": self.is_private,
            "created": self.created,
            "creator": self.creator,
            "is_archived": self.is_archived,
            "is_general": self.is_general,
            "is_shared": self.is_ext_shared,
            "is_ext_shared": self.is_ext_shared,
            "is_org_shared": False,
            "is_member": viewer in self.members,
            "topic": self.topic.to_api(),
            "purpose": self.purpose.to_api(),
        }
        if num_members:
            out["num_members"] = len(self.members)
        return out


@dataclass
class Message:
    """A message in a channel; `thread_ts` set and != ts means a thread reply."""

    ts: str
    channel: str
    user: str
    text: str = ""
    blocks: list[JSON] | None = None
    attachments: list[JSON] | None = None
    bot_id: str | None = None
    thread_ts: str | None = None
    subtype: str | None = None
    team: str = ""
    reactions: dict[str, list[str]] = field(default_factory=dict)
    edited: JSON | None = None
    metadata: JSON | None = None
    # Files shared with the message (files.completeUploadExternal), as Slack shows them.
    files: list[JSON] | None = None

    @property
    def is_reply(self) -> bool:
        """True for a thread reply (not the parent, not a top-level message)."""
        return self.thread_ts is not None and self.thread_ts != self.ts

    @property
    def is_top_level(self) -> bool:
        """True when conversations.history lists it (top level or broadcast reply)."""
        return not self.is_reply or self.subtype == "thread_broadcast"


@dataclass
class File:
    """A file uploaded with files.getUploadURLExternal: its bytes arrive at the upload URL,
    then files.completeUploadExternal makes it a file (shared in a channel, or private)."""

    id: str
    name: str
    length: int
    user: str
    created: int
    upload_id: str
    alt_txt: str = ""
    title: str = ""
    content: bytes | None = None
    completed: bool = False
    channels: list[str] = field(default_factory=list)

    @property
    def mimetype(self) -> str:
        """The type Slack infers from the name (what the page needs to show an image)."""
        suffix = self.name.rsplit(".", 1)[-1].lower() if "." in self.name else ""
        return MIMETYPES.get(suffix, "application/octet-stream")

    def to_api(self, team_id: str, base_url: str) -> JSON:
        """The file object as files.info and a message's ``files`` show it."""
        filetype = self.name.rsplit(".", 1)[-1].lower() if "." in self.name else "binary"
        url = f"{base_url}/files-pri/{team_id}-{self.id}/{self.name}"
        return {
            "id": self.id,
            "created": self.created,
            "timestamp": self.created,
            "name": self.name,
            "title": self.title or self.name,
            "mimetype": self.mimetype,
            "filetype": filetype,
            "pretty_type": filetype.upper(),
            "user": self.user,
            "size": len(self.content or b""),
            "mode": "hosted",
            "is_external": False,
            "is_public": bool(self.channels),
            "alt_txt": self.alt_txt,
            "url_private": url,
            "url_private_download": f"{url}?download=1",
            "channels": list(self.channels),
        }


MIMETYPES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "svg": "image/svg+xml",
    "csv": "text/csv",
    "txt": "text/plain",
}


@dataclass
class Ephemeral:
    """A message only `user` can see; Slack never returns these from history."""

    ts: str
    channel: str
    user: str
    sender: str
    text: str = ""
    blocks: list[JSON] | None = None
    thread_ts: str | None = None
    bot_id: str | None = None


@dataclass
class Pin:
    """A pinned message."""

    channel: str
    ts: str
    created_by: str
    created: int


@dataclass
class View:
    """A modal or Home tab view as the app last sent it."""

    id: str
    type: str
    user: str | None
    view: JSON
    hash: str
    team_id: str
    bot_id: str | None
    root_view_id: str
    previous_view_id: str | None = None
    external_id: str = ""

    def to_api(self) -> JSON:
        """Return the view object as views.* responses show it."""
        out: JSON = {
            "blocks": [],
            "private_metadata": "",
            "callback_id": "",
            "clear_on_close": False,
            "notify_on_close": False,
            "external_id": "",
            **self.view,
        }
        out.update(
            id=self.id,
            team_id=self.team_id,
            type=self.type,
            hash=self.hash,
            root_view_id=self.root_view_id,
            previous_view_id=self.previous_view_id,
            app_id="A0SANDBOX",
            bot_id=self.bot_id,
            state={"values": {}},
        )
        return out

"""auth.test, users.* and team.info."""

from __future__ import annotations

from sandbox.apicommon import Caller, Method, SlackApiError, arg_bool, arg_str, paginate
from sandbox.workspace import JSON, Workspace


def auth_test(ws: Workspace, caller: Caller, args: JSON) -> JSON:
    """auth.test: who the token belongs to."""
    user = ws.users[caller.user_id]
    out: JSON = {
        "url": f"https://{ws.team.domain}.slack.com/",
        "team": ws.team.name,
        "user": user.name,
        "team_id": ws.team.id,
        "user_id": user.id,
        "is_enterprise_install": False,
    }
    if caller.bot_id:
        out["bot_id"] = caller.bot_id
    return out


def users_info(ws: Workspace, caller: Caller, args: JSON) -> JSON:
    """users.info (external Slack Connect users included, with is_stranger)."""
    user = ws.users.get(arg_str(args, "user", required="user_not_found"))
    if user is None:
        raise SlackApiError("user_not_found")
    out = user.to_api()
    if arg_bool(args, "include_locale"):
        out["locale"] = "en-US"
    return {"user": out}


def users_list(ws: Workspace, caller: Caller, args: JSON) -> JSON:
    """users.list: members of this workspace only (no external users)."""
    with ws.lock:
        members = [u.to_api() for u in ws.users.values() if u.team_id == ws.team.id]
    page, meta = paginate(args, members, default_limit=1000)
    return {"members": page, "cache_ts": int(ws.now()), "response_metadata": meta}


def users_lookup_by_email(ws: Workspace, caller: Caller, args: JSON) -> JSON:
    """users.lookupByEmail: case-insensitive, this workspace's people only."""
    email = arg_str(args, "email", required="invalid_arguments").lower()
    with ws.lock:
        for user in ws.users.values():
            if user.email and user.email.lower() == email and user.team_id == ws.team.id:
                return {"user": user.to_api()}
    raise SlackApiError("users_not_found")


def team_info(ws: Workspace, caller: Caller, args: JSON) -> JSON:
    """team.info, also for an external team known through Slack Connect."""
    team = ws.teams.get(arg_str(args, "team") or ws.team.id)
    if team is None:
        raise SlackApiError("team_not_found")
    return {"team": team.to_api()}


def usergroups_users_list(ws: Workspace, caller: Caller, args: JSON) -> JSON:
    """usergroups.users.list: the members of one user group."""
    group = ws.usergroups.get(arg_str(args, "usergroup", required="no_such_subteam"))
    if group is None:
        raise SlackApiError("no_such_subteam")
    with ws.lock:
        return {"users": sorted(group[1])}


METHODS: dict[str, Method] = {
    "usergroups.users.list": usergroups_users_list,
    "auth.test": auth_test,
    "users.info": users_info,
    "users.list": users_list,
    "users.lookupByEmail": users_lookup_by_email,
    "team.info": team_info,
}

"""Turning the items of GrimoireLab Perceval (``--json-line``) into records.

Each item is ``{"backend_name", "category", "origin", "uuid", "updated_on", "data": {...}}``;
what ``data`` holds depends on the backend and category:

- GitHub ``issue`` (an :attr:`~NodeKind.ISSUE`; an issue that is a pull request carries the
  pull request's conversation, a ``thread`` of its :attr:`~NodeKind.CHANGE`) and
  ``pull_request`` (a change): author, assignees, ``comments_data``, ``reactions_data``,
  ``reviews_data`` (a ``review`` node and ``person -reviews-> change`` with the state),
  ``review_comments_data`` (messages replying to the change or to the comment they answer),
  ``requested_reviewers_data`` and ``merged_by_data`` (``person -handles-> change``, the role in
  attrs); where an item has no ``<field>_data``, the API's own ``<field>`` (a login) is read;
- GitLab ``issue`` and ``merge_request``: author, assignees, reviewers, merged by, ``notes_data``
  (system notes left out) and ``award_emoji_data`` (reactions);
- Gerrit ``review``: the change (its text the ``commitMessage``), its owner, its patch sets'
  authors other than the owner (``authored``, role ``co-author``) and uploaders other than
  both (``handles``, role ``uploader``), approvals (``person -reviews-> change`` with the label
  and score in attrs) and comments;
- Discourse ``topic``: a thread of posts (the text ``raw``, else ``cooked`` HTML made text; a
  post repeated in the stream read once), replies by ``reply_to_post_number``;
- mailing lists (``mbox``, ``pipermail``, ``hyperkitty``, ``groupsio``, ``gmane``, category
  ``message``; ``nntp`` ``article``): a message keyed by its Message-ID, as the mbox source keys
  it, so that the same message read both ways is one node;
- git ``commit``: the commit as the git source reads it (authors, committers, trailers, files),
  with the same ids, so that a commit read both ways is one node (see
  :mod:`knotwork.ingest.perceval_git`).

People are keyed by email when the item has one (:meth:`Node.person`), else by their handle at
the platform (``github:<login>``, ``gitlab:<host>:<username>``), with ``<handle>@<platform>``
handle aliases. An item without a category (Perceval's first versions wrote none) is of its
backend's only category (:data:`ONLY_CATEGORY`). Other categories raise :class:`Unsupported`.

>>> parser = PercevalParser()
>>> item = {"backend_name": "GitHub", "category": "issue", "uuid": "u1",
...     "origin": "https://github.com/ex/repo", "data": {"number": 7, "title": "Crash",
...     "created_at": "2020-01-02T03:04:05Z", "user_data": {"login": "ada"}}}
>>> record = parser.item(item, "x:1")
>>> record.nodes[0].kind.value, record.nodes[0].key, record.links[0].kind.value
('issue', 'https://github.com/ex/repo#7', 'authored')
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from email.utils import getaddresses
from typing import Any
from urllib.parse import urlsplit

from knotwork.ingest.chat import clean, link
from knotwork.ingest.mbox_decode import decode_words
from knotwork.ingest.mbox_parse import message_ids
from knotwork.ingest.perceval_git import CommitItems, GitOrigins
from knotwork.ingest.perceval_items import (
    BadItem,
    Items,
    Unsupported,
    html_text,
    items,
    native,
    obj,
    when,
)
from knotwork.model import LinkKind, Node, NodeKind, Record

_A, _R, _V = LinkKind.AUTHORED, LinkKind.REPLIES, LinkKind.REVIEWS
_H = LinkKind.HANDLES
MAIL_BACKENDS = frozenset({"mbox", "pipermail", "hyperkitty", "groupsio", "nntp", "gmane"})
#: The category of an item without one: Perceval's first versions wrote none (GrimoireLab-ELK
#: keeps such Gerrit 0.3, Pipermail 0.1, Gmane 0.1 and Discourse 0.1 items); only the backends
#: with one category are told, never GitHub's or GitLab's.
ONLY_CATEGORY = {
    **dict.fromkeys(MAIL_BACKENDS, "message"),
    "nntp": "article",
    "gerrit": "review",
    "discourse": "topic",
}


class PercevalParser(Items):
    """Records of Perceval items; people met are remembered for the run. ``origins`` finds the
    root commit and ``.mailmap`` of the repositories of git items; ``bot_patterns`` replaces
    the patterns that flag a person as a bot."""

    def __init__(
        self, origins: GitOrigins | None = None, bot_patterns: Sequence[str] | None = None
    ) -> None:
        super().__init__(bot_patterns)
        self.commits = CommitItems(origins or GitOrigins())

    def item(self, value: Any, place: str) -> Record:
        """The record of one parsed item; raises :class:`BadItem` or :class:`Unsupported`."""
        if not isinstance(value, dict):
            raise BadItem("not a JSON object")
        backend = clean(value.get("backend_name")).lower()
        category = clean(value.get("category"))
        if not category and value.get("category") is None:  # written before categories
            category = ONLY_CATEGORY.get(backend, "")
            if backend and not category and backend not in _BACKENDS:
                raise Unsupported(f"backend {backend[:40]!r} is not supported")
        data = value.get("data")
        if not backend or not category:
            raise BadItem("backend_name or category missing or not a string")
        if not isinstance(data, dict):
            raise BadItem("data is missing or not an object")
        origin = clean(value.get("origin")).rstrip("/") or backend
        handler = _HANDLERS.get((backend, category))
        if handler is None and category == "message" and backend in MAIL_BACKENDS:
            handler = PercevalParser.mail
        if handler is None:
            raise Unsupported(
                f"category {category[:40]!r} of backend {backend[:40]!r} is not supported"
            )
        try:
            record = self.resolving(lambda: handler(self, data, origin, place))
        except BadItem:
            raise
        except (TypeError, ValueError, AttributeError, KeyError, RecursionError) as exc:
            raise BadItem(f"malformed {backend} {category}: {type(exc).__name__}: {exc}") from None
        if clean(value.get("uuid")) and handler is not _commit:  # a commit stays as git reads it
            for node in record.nodes:
                if node.id == record.key:
                    node.attrs["uuid"] = clean(value["uuid"])
                    break
        return record

    # -- GitHub ---------------------------------------------------------------------------

    def github_issue(self, data: dict[str, Any], origin: str, place: str) -> Record:
        """A GitHub issue, or the conversation of a pull request."""
        number = native(data, "number")
        is_pull = isinstance(data.get("pull_request"), dict)
        record = Record("perceval", 0, place)
        if is_pull:
            change = Node.node_id(NodeKind.CHANGE, f"{origin}/pull/{number}")  # no placeholder:
            # the pull request's own item, read later, would be taken for a duplicate
            node = self._item_node(record, NodeKind.THREAD, f"{origin}/pull/{number}#thread", data)
            link(record, node.key, _R, node.id, change, node.time)
        else:
            node = self._item_node(record, NodeKind.ISSUE, f"{origin}#{number}", data)
        record.key = node.id
        self._github_common(record, node, data)
        return record

    def github_pull(self, data: dict[str, Any], origin: str, place: str) -> Record:
        """A GitHub pull request with its reviews and review comments."""
        number = native(data, "number")
        record = Record("perceval", 0, place)
        attrs: dict[str, Any] = {}
        if data.get("merged") is True or data.get("merged_at"):
            attrs["merged"] = True
        if commits := items(data.get("commits_data")):
            attrs["commits"] = [clean(c) for c in commits if isinstance(c, str)]
        node = self._item_node(record, NodeKind.CHANGE, f"{origin}/pull/{number}", data, **attrs)
        record.key = node.id
        author = self._github_common(record, node, data)
        merged = _either(data, "merged_by_data", "merged_by")
        self._roles(record, node.key, node.id, merged, "merged", "github")
        requested = _either(data, "requested_reviewers_data", "requested_reviewers")
        self._roles(record, node.key, node.id, requested, "requested_reviewer", "github")
        for review in items(data.get("reviews_data")):
            review = obj(review)
            rid = review.get("id")
            who = self.person(record, _either(review, "user_data", "user"), "github")
            if rid is None or who is None:
                record.defects.append("review without id or user")
                continue
            at = when(review.get("submitted_at"))
            state = clean(review.get("state"))
            body = clean(review.get("body"))
            key = f"{node.key}#review-{clean(str(rid))}"
            rnode = Node.make(NodeKind.REVIEW, key, state, at, 0, {"state": state})
            record.nodes.append(rnode)
            if body:
                record.texts[rnode.id] = body
            link(record, key, _A, who, rnode.id, at)
            link(record, key, _V, rnode.id, node.id, at, {"state": state})
            link(record, key, _V, who, node.id, at, {"state": state})
        comments: dict[Any, tuple[int, int | None]] = {}
        for comment in items(data.get("review_comments_data")):
            comment = obj(comment)
            if comment.get("id") is None:
                record.defects.append("review comment without an id")
                continue
            who = self.person(record, comment.get("user_data") or comment.get("user"), "github")
            reply = comment.get("in_reply_to_id")
            parent = comments.get(reply, (node.id, author)) if isinstance(reply, int) else None
            parent = parent or (node.id, author)
            key = f"{node.key}#r{clean(str(comment['id']))}"
            at = when(comment.get("created_at"))
            path = clean(comment.get("path"))
            mid = self._message(record, key, clean(comment.get("body")), at, who, parent, path=path)
            comments[comment["id"]] = (mid, who)
            self._reactions(record, key, mid, comment.get("reactions_data"), "github")
        return record

    def _github_common(self, record: Record, node: Node, data: dict[str, Any]) -> int | None:
        author = self.person(record, data.get("user_data") or data.get("user"), "github")
        if author is not None:
            link(record, node.key, _A, author, node.id, node.time)
        assignees = _either(data, "assignees_data", "assignee_data", "assignees", "assignee")
        self._roles(record, node.key, node.id, assignees, "assignee", "github")
        self._reactions(record, node.key, node.id, data.get("reactions_data"), "github")
        for comment in items(data.get("comments_data")):
            comment = obj(comment)
            if comment.get("id") is None:
                record.defects.append("comment without an id")
                continue
            who = self.person(record, comment.get("user_data") or comment.get("user"), "github")
            key = f"{node.key}#c{clean(str(comment['id']))}"
            at = when(comment.get("created_at"))
            mid = self._message(record, key, clean(comment.get("body")), at, who, (node.id, author))
            self._reactions(record, key, mid, comment.get("reactions_data"), "github")
        return author

    # -- GitLab ---------------------------------------------------------------------------

    def gitlab(self, data: dict[str, Any], origin: str, place: str, merge: bool) -> Record:
        """A GitLab issue or merge request with notes and award emoji."""
        iid = native(data, "iid", "id")
        host = "gitlab:" + (urlsplit(origin).hostname or "gitlab.com")
        record = Record("perceval", 0, place)
        kind = NodeKind.CHANGE if merge else NodeKind.ISSUE
        node = self._item_node(record, kind, f"{origin}{'!' if merge else '#'}{iid}", data)
        record.key = node.id
        author = self.person(record, data.get("author"), host)
        if author is not None:
            link(record, node.key, _A, author, node.id, node.time)
        assignees = _either(data, "assignees", "assignee")  # merge requests of API v3: one
        self._roles(record, node.key, node.id, assignees, "assignee", host)
        self._roles(record, node.key, node.id, data.get("reviewers"), "requested_reviewer", host)
        if data.get("merged_by"):
            self._roles(record, node.key, node.id, data.get("merged_by"), "merged", host)
        self._reactions(record, node.key, node.id, data.get("award_emoji_data"), host)
        system = 0
        for note in items(data.get("notes_data")):
            note = obj(note)
            if note.get("system") is True:
                system += 1
                continue
            if note.get("id") is None:
                record.defects.append("note without an id")
                continue
            who = self.person(record, note.get("author"), host)
            key = f"{node.key}#note_{clean(str(note['id']))}"
            at = when(note.get("created_at"))
            mid = self._message(record, key, clean(note.get("body")), at, who, (node.id, author))
            self._reactions(record, key, mid, note.get("award_emoji_data"), host)
        if system:
            node.attrs["system_notes"] = system
        return record

    # -- Gerrit ---------------------------------------------------------------------------

    def gerrit(self, data: dict[str, Any], origin: str, place: str) -> Record:
        """A Gerrit review: the change, its owner, approvals (scores) and comments."""
        number = native(data, "number")
        host = "gerrit:" + (urlsplit(origin).hostname or origin)
        record = Record("perceval", 0, place)
        attrs: dict[str, Any] = {}
        for field in ("project", "branch", "url"):
            if isinstance(data.get(field), str):
                attrs[field] = clean(data[field])
        # the commit message, its subject first, is the change's text (Gerrit has no body)
        created = dict(data, created_at=data.get("createdOn"), body=data.get("commitMessage"))
        node = self._item_node(record, NodeKind.CHANGE, f"{origin}/{number}", created, **attrs)
        record.key = node.id
        owner = self.person(record, data.get("owner"), host)
        if owner is not None:
            link(record, node.key, _A, owner, node.id, node.time)
        met = {_account(data.get("owner"))}  # patch set authors, uploaders: once, not the owner
        for patch in items(data.get("patchSets")):
            patch = obj(patch)
            ps = clean(str(patch.get("number", "")))
            for field, kind, role in (("author", _A, "co-author"), ("uploader", _H, "uploader")):
                if (account := _account(patch.get(field))) in met:
                    continue
                met.add(account)
                if (who := self.person(record, patch.get(field), host)) is None:
                    continue
                if owner is None and kind is _A:  # an item without an owner: the first author
                    owner = who
                    link(record, node.key, _A, who, node.id, node.time)
                else:
                    at = when(patch.get("createdOn"))
                    extra: dict[str, object] = {"role": role, "patchset": ps}
                    link(record, f"{node.key}:{field}", kind, who, node.id, at, extra)
            for approval in items(patch.get("approvals")):
                approval = obj(approval)
                who = self.person(record, approval.get("by"), host)
                if who is None:
                    record.defects.append(f"approval without a reviewer on patch set {ps}")
                    continue
                label = clean(approval.get("type"))
                try:
                    score = int(str(approval.get("value")))
                except ValueError:
                    record.defects.append(f"approval score not a number on patch set {ps}")
                    continue
                at = when(approval.get("grantedOn"))
                extra = {"label": label, "score": score, "patchset": ps}
                link(record, f"{node.key}:{ps}:{label}", _V, who, node.id, at, extra)
            for number_, comment in enumerate(items(patch.get("comments")), start=1):
                comment = obj(comment)
                who = self.person(record, comment.get("reviewer"), host)
                key = f"{node.key}/{ps}#c{number_}"
                file = clean(comment.get("file"))
                text = clean(comment.get("message"))
                self._message(record, key, text, None, who, (node.id, owner), path=file)
        for number_, comment in enumerate(items(data.get("comments")), start=1):
            comment = obj(comment)
            who = self.person(record, comment.get("reviewer"), host)
            at = when(comment.get("timestamp"))
            text = clean(comment.get("message"))
            self._message(record, f"{node.key}#c{number_}", text, at, who, (node.id, owner))
        return record

    # -- Discourse ------------------------------------------------------------------------

    def discourse(self, data: dict[str, Any], origin: str, place: str) -> Record:
        """A Discourse topic: a thread of posts."""
        tid = native(data, "id")
        host = "discourse:" + (urlsplit(origin).hostname or origin)
        record = Record("perceval", 0, place)
        node = self._item_node(record, NodeKind.THREAD, f"{origin}/t/{tid}", data)
        record.key = node.id
        posts: dict[int, tuple[int, int | None]] = {}
        seen: set[str] = set()
        for post in items(obj(data.get("post_stream")).get("posts")):
            post = obj(post)
            if post.get("id") is None:
                record.defects.append("post without an id")
                continue
            if (pid_ := clean(str(post["id"]))) in seen:
                record.defects.append(f"post {pid_[:40]} repeated in the topic")
                continue
            seen.add(pid_)
            user = {"username": post.get("username"), "name": post.get("name")}
            who = self.person(record, user, host)
            text = clean(post.get("raw")) or html_text(clean(post.get("cooked")))
            at = when(post.get("created_at"))
            reply = post.get("reply_to_post_number")
            parent = (
                posts.get(reply, (node.id, None)) if isinstance(reply, int) else (node.id, None)
            )
            key = f"{node.key}#p{clean(str(post['id']))}"
            pid = self._message(record, key, text, at, who, parent)
            if isinstance(post.get("post_number"), int):
                posts[post["post_number"]] = (pid, who)
                if post["post_number"] == 1 and who is not None:
                    link(record, node.key, _A, who, node.id, at)
        return record

    # -- mailing lists --------------------------------------------------------------------

    def mail(self, data: dict[str, Any], origin: str, place: str) -> Record:
        """A mailing-list message: headers ``From``, ``Message-ID``, ``In-Reply-To``; encoded
        words (RFC 2047) in the sender's name and the subject decoded, as Perceval leaves them."""
        headers = {k.lower(): v for k, v in data.items() if isinstance(v, str)}
        found = message_ids(headers.get("message-id", ""))
        if not found:
            raise BadItem("message without a Message-ID")
        record = Record("perceval", 0, place)
        at = when(headers.get("date"))
        subject = decode_words(clean(headers.get("subject")), record.defects)
        subject = " ".join(subject.split())[:1000]
        node = Node.make(NodeKind.MESSAGE, found[0], subject, at, 0, {"list": origin})
        record.nodes.append(node)
        record.key = node.id
        body = obj(data.get("body"))
        if text := clean(body.get("plain")) or html_text(clean(body.get("html"))):
            record.texts[node.id] = text
        pairs = getaddresses([clean(headers.get("from"))])
        name, address = pairs[0] if pairs else ("", "")
        if "@" not in address and " at " in clean(headers.get("from")):
            obfuscated = clean(headers.get("from")).replace(" at ", "@", 1)  # pipermail
            name, address = (getaddresses([obfuscated]) or [("", "")])[0]
        name = " ".join(decode_words(name, record.defects).split())
        who = self.person(record, {"email": address, "name": name, "username": ""}, "mail")
        if who is None and name:
            who = Node.person("", name).id
            record.nodes.append(Node.person("", name))
        if who is not None:
            link(record, node.key, _A, who, node.id, at)
        parents = (
            message_ids(headers.get("in-reply-to", ""))
            or message_ids(headers.get("references", ""))[-1:]
        )
        if parents:
            parent = Node.node_id(NodeKind.MESSAGE, parents[0])  # stored when read (or not)
            link(record, node.key, _R, node.id, parent, at)
        return record


def _account(user: object) -> str:
    """What tells a Gerrit account: its username, else its email ("" for neither). The same
    account may come with an email in one place of an item and without it, or with another, in
    the next (GrimoireLab-ELK's items do), so the person ids cannot tell.

    >>> _account({"username": "kb", "email": "k@x"}) == _account({"username": "kb"})
    True
    """
    user = obj(user)
    return clean(user.get("username")).strip() or clean(user.get("email")).strip().lower()


def _either(data: dict[str, Any], *fields: str) -> Any:
    """The first of ``fields`` of ``data`` that is set and not empty: Perceval adds the full
    user object as ``<field>_data``, but some real items lack it (GrimoireLab-ELK keeps such
    GitHub items) and have only the API's own ``<field>``, a login without an email.

    >>> _either({"user_data": {}, "user": {"login": "ada"}}, "user_data", "user")
    {'login': 'ada'}
    """
    for field in fields:
        if value := data.get(field):
            return value
    return None


_Handler = Callable[[PercevalParser, dict[str, Any], str, str], Record]


def _commit(self: PercevalParser, data: dict[str, Any], origin: str, place: str) -> Record:
    return self.commits.commit(data, origin, place)


_HANDLERS: dict[tuple[str, str], _Handler] = {
    ("github", "issue"): PercevalParser.github_issue,
    ("github", "pull_request"): PercevalParser.github_pull,
    ("gitlab", "issue"): lambda self, d, o, p: self.gitlab(d, o, p, False),
    ("gitlab", "merge_request"): lambda self, d, o, p: self.gitlab(d, o, p, True),
    ("gerrit", "review"): PercevalParser.gerrit,
    ("discourse", "topic"): PercevalParser.discourse,
    ("nntp", "article"): PercevalParser.mail,
    ("git", "commit"): _commit,
}
_BACKENDS = frozenset(backend for backend, _ in _HANDLERS) | MAIL_BACKENDS

__all__ = ["MAIL_BACKENDS", "ONLY_CATEGORY", "BadItem", "PercevalParser", "Unsupported", "when"]

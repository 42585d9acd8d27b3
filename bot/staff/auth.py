"""Staff accounts and log-ins: argon2 password hashes, server-side sessions, CSRF tokens, lock-out.

- Passwords are hashed with argon2id (argon2-cffi's defaults); a hash made with older parameters is
  replaced at the next good log-in.
- A log-in gives a random token (the `staff_session` cookie); the table keeps only its SHA-256, so a copy
  of the database logs nobody in. A session ends after IDLE without a request, or ABSOLUTE after the log-in,
  or at log-out. Each session has its own CSRF token, which every form of the console posts back.
- After MAX_FAILURES wrong passwords in a row the account is locked for LOCKOUT (a good password is refused
  too until then); an unknown user name costs the same hashing time as a known one and gets the same answer.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from db.models import Branch, StaffSession, StaffUser

ROLES = ("advisor", "manager", "admin")
IDLE = timedelta(hours=2)
ABSOLUTE = timedelta(hours=12)
MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD = 10

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("not a password of anyone")


class StaffError(ValueError):
    """A staff account that cannot be made as asked (the message says why, for the operator)."""


@dataclass(frozen=True)
class LoginResult:
    user: StaffUser | None
    token: str | None
    locked_until: datetime | None = None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def add_staff(session: Session, username: str, role: str, password: str, now: datetime,
              branch_code: str | None = None, display_name: str | None = None) -> StaffUser:
    username = username.strip().casefold()
    if not username or len(username) > 64:
        raise StaffError("the user name must be 1 to 64 characters")
    if role not in ROLES:
        raise StaffError(f"the role must be one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise StaffError(f"the password must be at least {MIN_PASSWORD} characters")
    if session.scalar(select(StaffUser.id).where(StaffUser.username == username)) is not None:
        raise StaffError(f"a staff user {username!r} exists already")
    branch_id = None
    if branch_code is not None:
        branch_id = session.scalar(select(Branch.id).where(Branch.code == branch_code))
        if branch_id is None:
            codes = ", ".join(session.scalars(select(Branch.code).order_by(Branch.code)))
            raise StaffError(f"no branch {branch_code!r} (branches: {codes})")
    if role == "advisor" and branch_id is None:
        raise StaffError("an advisor works at a branch: give --branch")
    user = StaffUser(username=username, display_name=display_name, password_hash=hash_password(password), role=role,
                     branch_id=branch_id, active=True, created_at=now)
    session.add(user)
    session.flush()
    return user


def set_active(session: Session, user: StaffUser, active: bool) -> None:
    """Activate or deactivate an account; deactivating ends its sessions at once."""
    user.active = active
    if not active:
        session.execute(delete(StaffSession).where(StaffSession.staff_user_id == user.id))


def log_in(session: Session, username: str, password: str, now: datetime) -> LoginResult:
    """Check the password; on success a new session's token. Counts failures and locks the account."""
    user = session.scalar(select(StaffUser).where(StaffUser.username == username.strip().casefold()))
    if user is None or not user.active:
        _verify(_DUMMY_HASH, password)  # the same time as for a real account
        return LoginResult(None, None)
    if user.locked_until is not None and user.locked_until > now:
        _verify(_DUMMY_HASH, password)
        return LoginResult(None, None, user.locked_until)
    if not _verify(user.password_hash, password):
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILURES:
            user.locked_until, user.failed_logins = now + LOCKOUT, 0
            return LoginResult(None, None, user.locked_until)
        return LoginResult(None, None)
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.failed_logins, user.locked_until, user.last_login_at = 0, None, now
    token = secrets.token_urlsafe(32)
    session.add(StaffSession(token_hash=_token_hash(token), staff_user_id=user.id, csrf_token=secrets.token_urlsafe(32),
                             created_at=now, last_seen_at=now, expires_at=now + ABSOLUTE))
    session.execute(delete(StaffSession).where(StaffSession.expires_at < now))  # the table does not grow
    return LoginResult(user, token)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def current(session: Session, token: str | None, now: datetime) -> tuple[StaffUser, StaffSession] | None:
    """The signed-in staff user of a session token, if the session is alive (and marks it seen)."""
    if not token:
        return None
    found = session.get(StaffSession, _token_hash(token))
    if found is None:
        return None
    if found.expires_at <= now or now - found.last_seen_at > IDLE:
        session.delete(found)
        return None
    user = session.get(StaffUser, found.staff_user_id)
    if user is None or not user.active:
        return None
    found.last_seen_at = now
    return user, found


def log_out(session: Session, token: str | None) -> None:
    if token:
        session.execute(delete(StaffSession).where(StaffSession.token_hash == _token_hash(token)))


def same_token(given: str | None, expected: str | None) -> bool:
    """CSRF check in constant time; a missing token never matches."""
    return bool(given) and bool(expected) and hmac.compare_digest(str(given), str(expected))

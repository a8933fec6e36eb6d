"""Login, logout, the personal page, password change and interface preferences."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, g, request, session, url_for
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required, login_user, logout_user

from deliberation.auth import phone_codes, services
from deliberation.auth.forms import (
    ChangePasswordForm,
    LocaleForm,
    LoginForm,
    PhoneCodeForm,
    PhoneForm,
    ResendCodeForm,
)
from deliberation.auth.models import PhoneChallenge, PhonePurpose
from deliberation.auth.phone_requests import CHALLENGE_SESSION_KEY, phone_code_limits, send_phone_code
from deliberation.core import browser_prefs
from deliberation.core.errors import DomainError
from deliberation.core.forms import fail_form, form_status, safe_next
from deliberation.core.htmx import redirect_to, render_page
from deliberation.core.text import clean, normalise_phone
from deliberation.extensions import db, limiter
from deliberation.votes import receipt_stash

bp = Blueprint("auth", __name__)


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _login_account_limit() -> str:
    return current_app.config["LOGIN_ACCOUNT_RATE_LIMIT"]


def _address_and_account_key() -> str:
    """The client address with the account tried: '139 1234 5678' and 'WangFang' count as the
    account's usual spellings, so retyping the login differently gives no fresh attempts."""
    login = clean(request.form.get("login") or "")
    account = normalise_phone(login) if services.PHONE_RE.match(normalise_phone(login)) else login.lower()
    return f"{get_remote_address()}|{account}"


def _login_failed(response) -> bool:
    """Only a wrong login or password is counted: a success never uses up the limits."""
    return bool(g.get("login_failed"))


def after_login_target() -> str:
    """Where a successful login leads: the same-site page that sent the user to log in, else the to-do page."""
    return safe_next(request.args.get("next"), url_for("todo.index"))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], deduct_when=_login_failed)
@limiter.limit(_login_account_limit, methods=["POST"], key_func=_address_and_account_key,
               deduct_when=_login_failed)
def login():
    """Log in with phone number or login name."""
    if current_user.is_authenticated:
        return redirect_to(after_login_target())
    form = LoginForm()
    if request.method == "GET" and session.get("login_hint") and not form.login.data:
        form.login.data = session.pop("login_hint")
    if form.validate_on_submit():
        user = services.authenticate(form.login.data, form.password.data)
        if user is not None:
            receipt_stash.forget()  # nor does someone logging in after a voter who did not log out
            _start_session(user, remember=form.remember.data)
            flash(_("Welcome, %(name)s.", name=user.display_name), "success")
            return redirect_to(after_login_target())
        g.login_failed = True
        # One message for an unknown login and a wrong password: do not reveal which accounts exist.
        form.form_errors.append(_("Incorrect login or password."))
    return render_page("auth/login.html", "auth/_login_form.html", form=form, status_code=form_status(form))


@bp.post("/logout")
@login_required
def logout():
    """Log out: every session of this account ends, on this device and any other (CSRF-checked)."""
    services.end_all_sessions(current_user, actor=current_user, reason="logged out")
    db.session.commit()
    logout_user()
    receipt_stash.forget()  # the next person at this browser does not see the receipt code
    flash(_("You have logged out."), "info")
    return redirect_to(url_for("communities.index"))


@bp.get("/account")
@login_required
def account():
    """The personal page: residencies with their status, roles, own proposals, meeting notices."""
    from deliberation.consultations.services import upcoming_for_member
    from deliberation.proposals.queries import proposals_by

    return render_page("auth/account.html", "auth/account.html", user=current_user,
                       proposals=proposals_by(current_user.id), meetings=upcoming_for_member(current_user),
                       phone_claimed_at=services.recent_phone_claim(current_user))


def _start_session(user, *, remember: bool = False) -> None:
    """Log the user in on this browser, in their language. The login ends with the browser unless "keep me
    logged in" was ticked (`remember`): the session itself is never made permanent."""
    login_user(user, remember=remember)
    session.permanent = False
    if user.locale:
        session["locale"] = user.locale


def _current_password_key() -> str:
    """The account whose current password is typed (only logged-in users reach these forms)."""
    user_id = (current_user.get_id() or "").partition(":")[0] if current_user.is_authenticated else ""
    return f"current-password|{user_id or get_remote_address()}"


def _wrong_current_password(response) -> bool:
    return bool(g.get("wrong_current_password"))


# Wrong current passwords (changing the password or the phone) count like failed logins of the account:
# whoever finds a browser logged in cannot try passwords as fast as the server answers.
current_password_limits = limiter.shared_limit(_login_account_limit, "current-password", methods=["POST"],
                                               key_func=_current_password_key, deduct_when=_wrong_current_password)


def _refuse_wrong_password(form, error: DomainError) -> None:
    if error.field in ("current_password", "password"):
        g.wrong_current_password = True
    fail_form(form, error)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
@current_password_limits
def change_password():
    """Change the password; other devices are logged out."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            services.change_password(current_user, current_password=form.current_password.data,
                                     new_password=form.new_password.data)
        except DomainError as error:
            _refuse_wrong_password(form, error)
        else:
            db.session.commit()
            # This device stays logged in, with the new session token (and "keep me logged in" if it was on).
            remembered = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token") in request.cookies
            _start_session(current_user._get_current_object(), remember=remembered)
            flash(_("Your password has been changed."), "success")
            return redirect_to(url_for("auth.account"))
    return render_page("auth/password.html", "auth/password.html", form=form, status_code=form_status(form))


# --- phone numbers proven by one-time SMS codes ---------------------------------------------------


def _open_challenge() -> PhoneChallenge | None:
    """This browser's challenge, if it is still open and belongs to whoever is logged in (or nobody)."""
    challenge = phone_codes.challenge_for(session.get(CHALLENGE_SESSION_KEY))
    if challenge is None:
        return None
    if challenge.purpose == PhonePurpose.change_phone and (
            not current_user.is_authenticated or current_user.id != challenge.user_id):
        return None
    return challenge


def _no_open_challenge():
    flash(_("No code is waiting for this browser. Start again."), "info")
    return redirect_to(url_for("auth.account") if current_user.is_authenticated else url_for("communities.index"))


def _phone_proven(challenge: PhoneChallenge):
    """Finish what the code was for: a new resident's account, or the account's new number."""
    from deliberation.communities import services as community_services

    session.pop(CHALLENGE_SESSION_KEY, None)
    try:
        if challenge.purpose == PhonePurpose.register:
            residency = community_services.complete_resident_registration(challenge)
            user = residency.user
        else:
            phone_codes.change_phone(current_user, challenge)
            user = current_user
            verified = community_services.verify_proven_roll_matches(user)
    except DomainError as error:
        db.session.rollback()
        challenge.registration = None  # the code stays used; the waiting password hash goes
        db.session.commit()
        flash(str(error.message), "error")  # only the phone's owner, who typed its code, reads this
        return redirect_to(url_for("auth.login"))
    db.session.commit()
    if challenge.purpose == PhonePurpose.register:
        _start_session(user)  # a new resident's first login
        if residency.status.value == "verified":
            flash(_("Your phone is proven and the residents' roll lists it at this address: you are verified."),
                  "success")
        else:
            flash(_("Your phone is proven. The community office checks your address; you will see the result "
                    "on this page."), "info")
    else:
        flash(_("Your phone number %(phone)s is proven.", phone=phone_codes.mask_phone(user.phone)), "success")
        if verified:
            flash(_("The residents' roll lists this number at your address: you are verified."), "success")
    return redirect_to(url_for("auth.account"))


@bp.route("/phone/code", methods=["GET", "POST"])
def phone_code():
    """Enter the code sent by SMS (after registering, or to change or prove the account's phone)."""
    challenge = _open_challenge()
    if challenge is None:
        return _no_open_challenge()
    form = PhoneCodeForm()
    if form.validate_on_submit():
        try:
            phone_codes.check_code(challenge, form.code.data)
        except DomainError as error:
            db.session.commit()  # a refused try still counts against the attempts
            fail_form(form, error)
        else:
            db.session.commit()  # the code is used up even if what it was for is then refused
            return _phone_proven(challenge)
    return render_page("auth/phone_code.html", "auth/_phone_code_form.html", form=form, challenge=challenge,
                       resend_form=ResendCodeForm(), masked_phone=phone_codes.mask_phone(challenge.phone),
                       wait_seconds=phone_codes.wait_seconds(challenge), status_code=form_status(form))


@bp.post("/phone/code/resend")
@phone_code_limits
def resend_phone_code():
    """Send a new code to the same number (the previous one stops working)."""
    challenge = _open_challenge()
    if challenge is None:
        return _no_open_challenge()
    try:
        message = phone_codes.resend(challenge)
    except DomainError as error:
        flash(str(error.message), "error")
        return redirect_to(url_for("auth.phone_code"))
    db.session.commit()
    send_phone_code(challenge, message)
    return redirect_to(url_for("auth.phone_code"))


@bp.route("/account/phone", methods=["GET", "POST"])
@login_required
@current_password_limits
@phone_code_limits
def change_phone():
    """Change (or prove) the account's phone number, with the current password: a code goes to the new number."""
    form = PhoneForm()
    if request.method == "GET" and not form.phone.data:
        form.phone.data = current_user.phone or ""
    if form.validate_on_submit():
        try:
            services.check_current_password(current_user, form.password.data, field="password")
            challenge, message = phone_codes.start_phone_change(current_user, form.phone.data)
        except DomainError as error:
            _refuse_wrong_password(form, error)
        else:
            db.session.commit()
            send_phone_code(challenge, message)
            return redirect_to(url_for("auth.phone_code"))
    return render_page("auth/phone.html", "auth/phone.html", form=form, status_code=form_status(form))


@bp.post("/prefs/locale")
def set_locale():
    """Switch the interface language; remembered in the session and on the account."""
    form = LocaleForm()
    if not form.validate_on_submit():
        raise DomainError(_("This language is not available."), status_code=400)
    session["locale"] = form.locale.data
    if current_user.is_authenticated:
        services.set_locale(current_user, form.locale.data)
        db.session.commit()
    return browser_prefs.keep(redirect_to(safe_next(request.form.get("next"), url_for("communities.index"))),
                              browser_prefs.LOCALE_COOKIE, form.locale.data)


@bp.post("/prefs/text-size")
def toggle_text_size():
    """Switch the larger-text mode on or off for this browser."""
    return browser_prefs.keep(redirect_to(safe_next(request.form.get("next"), url_for("communities.index"))),
                              browser_prefs.LARGE_TEXT_COOKIE, "0" if browser_prefs.large_text() else "1")

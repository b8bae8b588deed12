"""Errors the dashboard turns into its own HTML pages (registered on the app by ``install``;
other routers' errors keep their JSON)."""

from __future__ import annotations


class DashboardError(Exception):
    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message


class SignInRequired(Exception):
    """No live session: the page redirects to the sign-in form, then back."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url

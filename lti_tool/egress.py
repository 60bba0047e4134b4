"""Which network addresses the tool may send requests to on a platform's behalf.

Platform URLs (key set, token, AGS, NRPS, registration) are typed in by operators or, with
Dynamic Registration, sent by platforms; fetching them from inside our network must not
let anyone reach loopback, private or link-local services (server-side request forgery).
In production (an https base URL) such addresses are refused unless an operator names the
host in CXA_ALLOWED_PRIVATE_HOSTS; the embedded default (http on loopback) allows them,
since its demo LMS and tests live there.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from lti_tool.config import Settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
#: Host name -> every address it resolves to; a seam so tests can pretend DNS answers.
Resolver = Callable[[str], list[str]]


def resolve_host(host: str) -> list[str]:
    """Every address ``host`` resolves to (both families); OSError when it does not."""
    infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def address_kind(value: str) -> str | None:
    """Why an address is not one we may reach in production, or None for a public one."""
    address: IPAddress = ipaddress.ip_address(value.split("%", 1)[0])
    # An IPv4-mapped IPv6 address (::ffff:10.0.0.1) reaches the IPv4 host it wraps.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"  # 169.254.0.0/16 holds cloud metadata services
    if address.is_unspecified:
        return "unspecified"
    if address.is_multicast:
        return "multicast"
    if address.is_private:
        return "private"
    # Shared (100.64.0.0/10), reserved and documentation ranges are not public either.
    if not address.is_global:
        return "non-public"
    return None


class EgressRefused(Exception):
    """Raised when a URL's host is, or resolves to, an address the policy refuses."""


@dataclass(frozen=True)
class EgressPolicy:
    """Where requests on a platform's behalf may go."""

    # Refuse non-public addresses (production); off in the embedded default.
    enforce: bool = True
    # Host names or IP literals an operator allows although they are not public.
    allowed_hosts: frozenset[str] = frozenset()
    resolve: Resolver = field(default=resolve_host, compare=False, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> EgressPolicy:
        production = urlsplit(settings.base_url).scheme.lower() == "https"
        return cls(
            enforce=production,
            allowed_hosts=frozenset(_normal_host(h) for h in settings.allowed_private_hosts),
        )

    def allows_host(self, host: str) -> bool:
        return not self.enforce or _normal_host(host) in self.allowed_hosts

    def refusal(self, host: str, addresses: Iterable[str]) -> str | None:
        """Why ``host`` may not be reached at these addresses, or None."""
        if self.allows_host(host):
            return None
        for address in addresses:
            kind = address_kind(address)
            if kind is not None:
                shown = host if host == address else f"{host} (which resolves to {address})"
                return (
                    f"points at {shown}, a {kind} address; production refuses those unless "
                    "the host is listed in CXA_ALLOWED_PRIVATE_HOSTS"
                )
        return None

    def require_public(self, url: str) -> list[str]:
        """The addresses of ``url``'s host, each allowed; EgressRefused says why not."""
        host = urlsplit(url).hostname or ""
        if self.allows_host(host):
            return []
        try:
            addresses = [host] if _is_ip(host) else self.resolve(host)
        except OSError as err:
            raise EgressRefused(f"{url}: the host {host} cannot be resolved ({err})") from err
        reason = self.refusal(host, addresses)
        if reason:
            raise EgressRefused(f"{url} {reason}")
        return addresses

    def registration_problem(self, url: str) -> str | None:
        """Why a platform URL may not be registered, or None.

        A name that does not resolve yet is accepted: DNS may come later, and every fetch
        checks the addresses again.
        """
        host = urlsplit(url).hostname or ""
        if self.allows_host(host):
            return None
        try:
            addresses = [host] if _is_ip(host) else self.resolve(host)
        except OSError:
            return None
        return self.refusal(host, addresses)


#: The embedded default: no address is refused (demo LMS and tests run on loopback).
PERMISSIVE = EgressPolicy(enforce=False)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return True


def _normal_host(host: str) -> str:
    return host.strip().strip("[]").rstrip(".").lower()

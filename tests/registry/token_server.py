"""token_server.py — a Docker Registry token issuer (the "realm" of the token
auth spec) for the registry tests: the real registry validates what it signs.

It signs JWTs (ES256) with a key and a self-signed certificate generated at
start; the registry trusts that certificate through `rootcertbundle` and finds
it in each token's `x5c` header. Every request is recorded so tests can check
what sockgate sent (service, scope, credentials).

Modes: require_user/require_password → Basic credentials are needed;
wrong_key=True → tokens are signed by another key (the registry must refuse).
"""
import base64
import datetime
import json
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def make_key_and_cert(cn):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return key, cert


class TokenServer:
    def __init__(self, issuer, service, require_user=None, require_password=None,
                 wrong_key=False, expires_in=300):
        self.issuer, self.service = issuer, service
        self.require_user, self.require_password = require_user, require_password
        self.expires_in = expires_in
        self.key, self.cert = make_key_and_cert("sockgate-test-token-issuer")
        # wrong_key: sign with a second key/cert the registry does not trust
        self.sign_key, self.sign_cert = (make_key_and_cert("untrusted")
                                         if wrong_key else (self.key, self.cert))
        self.requests = []
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.port = self.httpd.server_address[1]
        self.realm = f"http://127.0.0.1:{self.port}/token"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def cert_pem(self):
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def token(self, scopes, subject):
        access = []
        for scope in scopes:
            parts = scope.split(":")
            if len(parts) >= 3 and parts[0] == "repository":
                access.append({"type": "repository", "name": ":".join(parts[1:-1]),
                               "actions": parts[-1].split(",")})
        now = int(time.time())
        claims = {"iss": self.issuer, "sub": subject, "aud": self.service,
                  "exp": now + self.expires_in, "nbf": now - 10, "iat": now,
                  "jti": uuid.uuid4().hex, "access": access}
        der = self.sign_cert.public_bytes(serialization.Encoding.DER)
        return jwt.encode(claims, self.sign_key, algorithm="ES256",
                          headers={"x5c": [base64.b64encode(der).decode()]})

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _user(self):
                h = self.headers.get("Authorization", "")
                if not h.startswith("Basic "):
                    return None, None
                try:
                    user, _, pw = base64.b64decode(h[6:]).decode().partition(":")
                    return user, pw
                except Exception:
                    return None, None

            def do_GET(self):
                url = urllib.parse.urlsplit(self.path)
                q = urllib.parse.parse_qs(url.query)
                user, pw = self._user()
                with server.lock:
                    server.requests.append({"path": url.path, "query": q, "user": user})
                if url.path != "/token":
                    return self._send(404, {"error": "not found"})
                if server.require_user is not None and (
                        user != server.require_user or pw != server.require_password):
                    return self._send(401, {"errors": [{"code": "UNAUTHORIZED"}]},
                                      {"WWW-Authenticate": 'Basic realm="token"'})
                tok = server.token(q.get("scope", []), user or "anonymous")
                self._send(200, {"token": tok, "access_token": tok,
                                 "expires_in": server.expires_in,
                                 "issued_at": datetime.datetime.now(
                                     datetime.timezone.utc).isoformat()})

            def _send(self, code, obj, headers=None):
                body = json.dumps(obj).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

        return Handler


if __name__ == "__main__":
    import sys
    ts = TokenServer(sys.argv[1] if len(sys.argv) > 1 else "test-issuer",
                     sys.argv[2] if len(sys.argv) > 2 else "test-registry").start()
    sys.stdout.write(ts.cert_pem().decode())
    print(f"realm {ts.realm}", flush=True)
    ts.thread.join()

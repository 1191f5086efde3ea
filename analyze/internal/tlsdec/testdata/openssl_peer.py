# An OpenSSL TLS peer for tlsdec's tests (openssl_test.go), through
# Python's ssl module: "server CERT KEY KEYLOG [OPTIONS]" prints its port
# and echoes what it reads, upper-cased, until the client closes;
# "client PORT KEYLOG SIZE... [OPTIONS]" sends messages of those sizes and
# reads each echo, then closes. OPTIONS: max12 (TLS 1.2 at most),
# cipher=NAME (OpenSSL TLS 1.2 cipher list), noticket (session IDs only),
# resume (the client connects twice, the second time resuming).
import socket
import ssl
import sys


def options(args):
    opts = {}
    for a in args:
        k, _, v = a.partition("=")
        opts[k] = v or True
    return opts


def configure(ctx, opts, keylog):
    ctx.keylog_filename = keylog
    if "max12" in opts:
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    if "cipher" in opts:
        ctx.set_ciphers(opts["cipher"])
    if "noticket" in opts:
        ctx.options |= ssl.OP_NO_TICKET


def server(cert, key, keylog, args):
    opts = options(args)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    configure(ctx, opts, keylog)
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(4)
    print(ls.getsockname()[1], flush=True)
    for _ in range(2 if "resume" in opts else 1):
        raw, _ = ls.accept()
        with ctx.wrap_socket(raw, server_side=True) as s:
            while True:
                b = s.recv(65536)
                if not b:
                    break
                s.sendall(b.upper())
            # A clean shutdown (close_notify both ways) keeps the session
            # resumable: OpenSSL drops one that ends without it.
            s.unwrap()


def client(port, keylog, args):
    sizes = [int(a) for a in args if a.isdigit()]
    opts = options(a for a in args if not a.isdigit())
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    configure(ctx, opts, keylog)
    session = None
    for _ in range(2 if "resume" in opts else 1):
        with socket.create_connection(("127.0.0.1", int(port))) as raw:
            with ctx.wrap_socket(raw, server_hostname="wsviz.test", session=session) as s:
                for i, n in enumerate(sizes):
                    s.sendall(bytes([97 + i % 26]) * n)
                    got = 0
                    while got < n:
                        got += len(s.recv(65536))
                session = s.session
                print("resumed" if s.session_reused else "full", s.version(), s.cipher()[0], flush=True)
                s.unwrap()


if __name__ == "__main__":
    if sys.argv[1] == "server":
        server(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:])
    else:
        client(sys.argv[2], sys.argv[3], sys.argv[4:])

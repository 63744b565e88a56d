"""What python-bitcoinrpc's AuthServiceProxy sends, with the standard library only.

Usage: python3 python_client.py <port> <cookie file> <address>

Each call is a POST of {"version": "1.1", "method": ..., "params": [...], "id": n}
with Basic auth from the cookie, over one keep-alive connection; replies are
parsed with Decimal for amounts, as AuthServiceProxy does. Prints one line
per check and exits non-zero on the first mismatch.
"""
import base64
import decimal
import http.client
import json
import sys

port, cookie_file, address = int(sys.argv[1]), sys.argv[2], sys.argv[3]
with open(cookie_file) as f:
    cookie = f.read()
auth = b"Basic " + base64.b64encode(cookie.encode("utf8"))
connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
ids = iter(range(1, 1000))


class JSONRPCException(Exception):
    def __init__(self, error):
        super().__init__(error["message"])
        self.error = error


def call(method, *params):
    body = json.dumps({"version": "1.1", "method": method, "params": params, "id": next(ids)})
    connection.request("POST", "/", body, {
        "Host": "127.0.0.1",
        "User-Agent": "AuthServiceProxy/0.1",
        "Authorization": auth,
        "Content-type": "application/json",
    })
    response = connection.getresponse()
    if response.getheader("Content-Type") != "application/json":
        raise Exception("non-JSON HTTP response with '%d %s' from server" % (response.status, response.reason))
    reply = json.loads(response.read().decode("utf8"), parse_float=decimal.Decimal)
    if reply.get("error") is not None:
        raise JSONRPCException(reply["error"])
    if "result" not in reply:
        raise JSONRPCException({"code": -343, "message": "missing JSON-RPC result"})
    return reply["result"]


def check(name, actual, expected):
    if actual != expected:
        print("FAIL %s: %r != %r" % (name, actual, expected))
        sys.exit(1)
    print("ok %s" % name)


check("getblockcount", call("getblockcount"), 0)
hashes = call("generatetoaddress", 101, address)
check("generatetoaddress", len(hashes), 101)
info = call("getblockchaininfo")
check("blocks", info["blocks"], 101)
check("difficulty is a Decimal", type(info["difficulty"]), decimal.Decimal)
out = call("gettxout", call("getblock", hashes[0])["tx"][0], 0)
check("amount exact", out["value"], decimal.Decimal("50.00000000"))
check("total_amount exact", call("gettxoutsetinfo")["total_amount"], decimal.Decimal("5050.00000000"))
check("relayfee", call("getnetworkinfo")["relayfee"], decimal.Decimal("0.00000100"))
try:
    call("getblockhash", 1000)
    check("error raised", False, True)
except JSONRPCException as e:
    check("error code", e.error["code"], -8)
    check("error message", e.error["message"], "Block height out of range")
try:
    call("nosuchmethod")
    check("error raised", False, True)
except JSONRPCException as e:
    check("unknown method", e.error["code"], -32601)
print("done")

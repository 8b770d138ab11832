#!/usr/bin/env python3
"""An independent implementation of Pinpost's signed readings (README "Signed readings"), on jwcrypto and
cryptography from PyPI: it verifies what the agent publishes and makes readings `pinpost verify` must accept.

  reading_proof.py verify CAPTURE --ca CA [--operator-key KEY]
      Checks every reading line of a mosquitto_sub capture (`-F '%t %P %p'` or `-v`): the JWS (detached in the
      user property `sig`, or the compact payload, or inside a JWE decrypted with KEY) verifies with jwcrypto
      against the certificate the device announced (x5c, checked against CA with cryptography), the header's
      topic is the topic it arrived on, and the hash chain links every reading to the one its header names.
      Prints "verified N readings" and exits 0, or names the first failure and exits 1.
  reading_proof.py make --key KEY --cert CERT --topic TOPIC --stream STREAM --count N [--first-seq S]
      Prints an announcement line and N chained, signed MQTT 5 reading lines (detached JWS) signed with KEY.
"""
import argparse
import base64
import datetime
import hashlib
import json
import sys

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwcrypto import jwe, jwk, jws


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def link(previous, topic, payload):
    return hashlib.sha256(previous + topic.encode() + b"\x00" + payload).digest()


def parse_line(line):
    topic, _, rest = line.partition(" ")
    sig = None
    while True:
        rest = rest.lstrip(" ")
        token, _, after = rest.partition(" ")
        if ":" in token and not token.startswith("{") and token.split(":", 1)[0].replace("_", "").replace("-", "").isalnum():
            if token.startswith("sig:"):
                sig = token[4:]
            rest = after
            continue
        return topic, sig, rest.encode()


def verify(args):
    ca = x509.load_pem_x509_certificate(open(args.ca, "rb").read())
    operator = None
    if args.operator_key:
        operator = jwk.JWK.from_pem(open(args.operator_key, "rb").read())
    lines = [line.rstrip("\n") for line in open(args.capture, encoding="utf-8") if line.strip()]
    keys = {}
    for line in lines:
        topic, _, payload = parse_line(line)
        if topic.split("/")[2:3] != ["certificate"]:
            continue
        chain = [x509.load_der_x509_certificate(base64.b64decode(c)) for c in json.loads(payload)["x5c"]]
        leaf = chain[0]
        leaf.verify_directly_issued_by(ca)  # the test PKI has no intermediates
        thumbprint = b64url(hashlib.sha256(leaf.public_bytes(serialization.Encoding.DER)).digest())
        cn = leaf.subject.get_attributes_for_oid(x509.oid.NameOID.COMMON_NAME)[0].value
        keys[thumbprint] = (cn, jwk.JWK.from_pem(leaf.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)))
    # Each device's chain is its own: links (seq -> link value) and the unsigned links since its last signature.
    chains = {}
    count = 0
    for line in lines:
        topic, sig, payload = parse_line(line)
        if topic.split("/")[2:3] != ["sensors"]:
            continue
        links, pending = chains.setdefault(topic.split("/")[1], ({}, []))
        if payload.count(b".") == 4:
            token = jwe.JWE()
            token.deserialize(payload.decode(), key=operator)
            protected = json.loads(token.objects["protected"])
            assert protected["alg"] == "ECDH-ES" and protected["enc"] == "A256GCM", protected
            payload = token.payload
            if protected.get("cty") != "JOSE":
                pending.append((topic, payload))  # a link between signatures (chain-head mode)
                continue
        if payload.startswith(b"{"):
            if sig is None:
                pending.append((topic, payload))
                continue
            compact, detached = sig, payload
        else:
            compact, detached = payload.decode(), None
        token = jws.JWS()
        token.deserialize(compact)
        header = json.loads(token.objects["protected"])
        assert header["alg"] == "ES256", header
        device, key = keys[header["x5t#S256"]]
        assert topic.split("/")[1] == device, f"{topic} signed by {device}"
        token.verify(key, detached_payload=detached)
        reading = detached if detached is not None else token.payload
        assert header["topic"] == topic, f"signed for {header['topic']}, received on {topic}"
        fields = json.loads(reading)
        prev = unb64url(header["prev"])
        if header["prev_seq"] == 0:
            assert prev == bytes(32)
        elif links:
            base = max(s for s in links if s <= header["prev_seq"]) if any(s <= header["prev_seq"] for s in links) else None
            if base is not None:
                value = links[base]
                for t, p in pending:
                    value = link(value, t, p)
                assert value == prev, f"seq {fields['seq']}: the chain does not reach prev_seq {header['prev_seq']}"
        pending.clear()
        links[fields["seq"]] = link(prev, topic, reading)
        count += 1
    if count == 0:
        print("no signed readings", file=sys.stderr)
        return 1
    print(f"verified {count} readings")
    return 0


def make(args):
    key = serialization.load_pem_private_key(open(args.key, "rb").read(), password=None)
    certificate = x509.load_pem_x509_certificate(open(args.cert, "rb").read())
    der = certificate.public_bytes(serialization.Encoding.DER)
    device = args.topic.split("/")[1]
    print(f"devices/{device}/certificate " + json.dumps({"x5c": [base64.b64encode(der).decode()]}, separators=(",", ":")))
    signer = jwk.JWK.from_pem(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                serialization.NoEncryption()))
    previous, previous_seq = bytes(32), 0
    for seq in range(args.first_seq, args.first_seq + args.count):
        ts = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        reading = json.dumps({"sensor": args.topic.split("/")[-1], "value": seq % 2, "ts": ts,
                              "stream": args.stream, "seq": seq}, separators=(",", ":")).encode()
        header = {"alg": "ES256", "x5t#S256": b64url(hashlib.sha256(der).digest()), "topic": args.topic,
                  "prev_seq": previous_seq, "prev": b64url(previous)}
        token = jws.JWS(reading)
        token.add_signature(signer, alg="ES256", protected=json.dumps(header))
        parts = token.serialize(compact=True).split(".")
        print(f"{args.topic} sig:{parts[0]}..{parts[2]} {reading.decode()}")
        previous, previous_seq = link(previous, args.topic, reading), seq
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    v = commands.add_parser("verify")
    v.add_argument("capture")
    v.add_argument("--ca", required=True)
    v.add_argument("--operator-key")
    m = commands.add_parser("make")
    for name in ("--key", "--cert", "--topic", "--stream"):
        m.add_argument(name, required=True)
    m.add_argument("--count", type=int, default=3)
    m.add_argument("--first-seq", type=int, default=1)
    args = parser.parse_args()
    return verify(args) if args.command == "verify" else make(args)


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env bash
# Generate test TLS material into DIR with the openssl CLI:
#   ca.pem / ca.key          a test CA
#   server.pem / server.key  a certificate for localhost and 127.0.0.1
#                            signed by that CA
#   rogue.pem / rogue.key    a self-signed certificate for the same names,
#                            which a client trusting only ca.pem must reject
# Usage: make-certs.sh DIR
set -euo pipefail

dir=${1:?usage: make-certs.sh DIR}
mkdir -p "$dir"
cd "$dir"

san="subjectAltName=DNS:localhost,IP:127.0.0.1"

openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 2 \
	-keyout ca.key -out ca.pem -subj "/CN=booktape test CA" \
	-addext "basicConstraints=critical,CA:TRUE" \
	-addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null

openssl req -newkey rsa:2048 -nodes -sha256 \
	-keyout server.key -out server.csr -subj "/CN=localhost" 2>/dev/null
printf '%s\n' "$san" "basicConstraints=CA:FALSE" \
	"keyUsage=digitalSignature,keyEncipherment" \
	"extendedKeyUsage=serverAuth" >server.ext
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key \
	-CAcreateserial -out server.pem -days 2 -sha256 \
	-extfile server.ext 2>/dev/null

openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 2 \
	-keyout rogue.key -out rogue.pem -subj "/CN=localhost" \
	-addext "$san" 2>/dev/null

rm -f server.csr server.ext ca.srl
chmod 600 ./*.key

#!/usr/bin/env python3
"""Lists every blob name under a prefix of an Azure container (List Blobs, page by page), signed
with the account's Shared Key: an independent client for the tests (azure-cli takes tens of
seconds to start, too slow to call after every step).

    azure_list.py <endpoint> <account> <key> <container> <prefix> <ca-file>
"""
import base64, datetime, hashlib, hmac, ssl, sys, urllib.parse, urllib.request
import xml.etree.ElementTree as ET

endpoint, account, key, container, prefix, ca = sys.argv[1:7]
context = ssl.create_default_context(cafile=ca)
marker = ""
while True:
    query = {"restype": "container", "comp": "list", "prefix": prefix}
    if marker:
        query["marker"] = marker
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%a, %d %b %Y %H:%M:%S GMT")
    version = "2021-12-02"
    canonical_query = "".join(f"\n{k}:{v}" for k, v in sorted(query.items()))
    to_sign = ("GET" + "\n" * 12 + f"x-ms-date:{date}\nx-ms-version:{version}\n"
               f"/{account}/{account}/{container}{canonical_query}")
    signature = base64.b64encode(hmac.new(base64.b64decode(key), to_sign.encode(), hashlib.sha256).digest()).decode()
    url = f"{endpoint}/{container}?{urllib.parse.urlencode(query)}"
    request = urllib.request.Request(url, headers={"x-ms-date": date, "x-ms-version": version,
                                                   "Authorization": f"SharedKey {account}:{signature}"})
    with urllib.request.urlopen(request, context=context) as reply:
        root = ET.fromstring(reply.read())
    for name in root.iter("Name"):
        if name.text and name.text.startswith(prefix):
            print(name.text[len(prefix):].lstrip("/"))
    marker = root.findtext("NextMarker") or ""
    if not marker:
        break

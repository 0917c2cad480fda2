{
  "targets": [
    {
      "target_name": "slicenet_native",
      "sources": ["src/addon.c", "src/common.c", "src/aead.c", "src/fastpath.c", "src/fastpath_js.c", "src/macmirror.c", "src/tap.c", "src/udp.c", "src/reader.c", "src/gso.c", "src/gro.c", "src/netlink.c", "src/netns.c"],
      "cflags": ["-std=gnu11", "-O2", "-Wall", "-Wextra", "-Werror", "-Wno-unused-parameter", "-fvisibility=hidden"],
      "defines": ["_GNU_SOURCE"],
      "libraries!": ["-lcrypto", "-lssl"]
    }
  ]
}

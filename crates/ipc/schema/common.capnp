# Types shared by the other schemas.
@0xcd2c6232cb484a28;

using Proxy = import "proxy.capnp";

# A block by hash (32 bytes, internal byte order) and height.
struct BlockRef $Proxy.wrap("interfaces::BlockRef") {
    hash @0 :Data;
    height @1 :Int32;
}

# A registration held across processes (c1pzo's own interface): dropping
# or destroying it, or losing the connection, ends the registration.
@0xcc4f7910b20b8452;

using Proxy = import "proxy.capnp";

interface Handler $Proxy.wrap("interfaces::Handler") {
    destroy @0 (context :Proxy.Context) -> ();
    disconnect @1 (context :Proxy.Context) -> ();
}

# A test interface: returns what it is given. Served by every c1pzo
# process's Init; Bitcoin Core's tests and ours use it to prove a link works.
@0x888b4f7f51e691f7;

using Proxy = import "proxy.capnp";

interface Echo $Proxy.wrap("interfaces::Echo") {
    destroy @0 (context :Proxy.Context) -> ();
    echo @1 (context :Proxy.Context, echo :Text) -> (result :Text);
}

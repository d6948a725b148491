# What the node asks of the wallet process (c1pzo's own interface, after
# Core's ChainClient/WalletLoader): add the wallet RPCs, load the wallets,
# stop, hand out the loaded wallets.
@0x9062c92766ded362;

using Proxy = import "proxy.capnp";
using Chain = import "chain.capnp";
using Wallet = import "wallet.capnp";

interface WalletLoader $Proxy.wrap("interfaces::WalletLoader") {
    destroy @0 (context :Proxy.Context) -> ();
    registerRpcs @1 (context :Proxy.Context) -> ();
    loadWallets @2 (context :Proxy.Context, names :List(Text)) -> (result :Chain.Outcome);
    stop @3 (context :Proxy.Context) -> ();
    getWallets @4 (context :Proxy.Context) -> (result :List(Wallet.Wallet));
}

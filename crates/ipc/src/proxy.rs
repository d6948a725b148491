//! Proxies for the `crates/interfaces` traits, generated from one list of
//! methods per interface ([`ipc_proxy!`]): the client implements the trait
//! by sending each call with a `Context` and blocking for the reply; the
//! server implements the capnp interface by running the call on the
//! worker the context names, against any implementation of the trait.
//! Adding a method is one line in the schema and one line in the list;
//! how each value travels is [`crate::wire`]'s, once per type.

use std::sync::Arc;

use crate::connection::ConnectionHandle;
use crate::error::IpcError;
use crate::event_loop::Local;

/// The client side of one capability: the connection it lives on and the
/// capability itself, usable from any thread.
pub struct Proxy<C: 'static> {
    pub connection: Arc<ConnectionHandle>,
    pub client: Local<C>,
}

/// What a client method returns when the call cannot be made (the peer
/// is gone): a neutral value, so a process whose peer died winds down
/// instead of panicking. The error is reported to the proxy's
/// `on_disconnect` first.
pub trait Fallback {
    fn fallback(error: &IpcError) -> Self;
}

impl Fallback for () {
    fn fallback(_: &IpcError) {}
}

impl Fallback for bool {
    fn fallback(_: &IpcError) -> bool {
        false
    }
}

impl Fallback for i64 {
    fn fallback(_: &IpcError) -> i64 {
        0
    }
}

impl<T> Fallback for Option<T> {
    fn fallback(_: &IpcError) -> Option<T> {
        None
    }
}

impl<T> Fallback for Vec<T> {
    fn fallback(_: &IpcError) -> Vec<T> {
        Vec::new()
    }
}

impl<T> Fallback for Result<T, String> {
    fn fallback(error: &IpcError) -> Result<T, String> {
        Err(error.to_string())
    }
}

impl Fallback for u64 {
    fn fallback(_: &IpcError) -> u64 {
        0
    }
}

impl Fallback for String {
    fn fallback(_: &IpcError) -> String {
        String::new()
    }
}

impl Fallback for bitcoin::FeeRate {
    fn fallback(_: &IpcError) -> bitcoin::FeeRate {
        bitcoin::FeeRate::ZERO
    }
}

impl Fallback for interfaces::BlockRef {
    fn fallback(_: &IpcError) -> interfaces::BlockRef {
        use bitcoin::hashes::Hash;
        interfaces::BlockRef {
            hash: bitcoin::BlockHash::all_zeros(),
            height: 0,
        }
    }
}

impl Fallback for interfaces::BlockTip {
    fn fallback(error: &IpcError) -> interfaces::BlockTip {
        let block = interfaces::BlockRef::fallback(error);
        interfaces::BlockTip {
            hash: block.hash,
            height: block.height,
            time: 0,
        }
    }
}

impl Fallback for Result<serde_json::Value, interfaces::rpc::RpcError> {
    fn fallback(error: &IpcError) -> Self {
        // -18, Core's "wallet not found": the node then tries any other
        // registration of the method (a restarted wallet process's). Only
        // wallet methods travel as RPC actors; a front end's
        // `Node.executeRpc` gets the same answer when the node is gone.
        Err(interfaces::rpc::RpcError::new(
            interfaces::rpc::code::WALLET_NOT_FOUND,
            format!("The process serving this method is unavailable: {error}"),
        ))
    }
}

/// Called when a proxy's call fails for want of a peer.
pub type OnDisconnect = Arc<dyn Fn(&IpcError) + Send + Sync>;

/// How a parameter is passed to the trait method and held while it
/// travels: `val T` by value, `ref T` as `&T`, `slice T` as `&[T]`
/// (travels as `Vec<T>`), `str` as `&str` (travels as `String`).
#[macro_export]
#[doc(hidden)]
macro_rules! ipc_param_type {
    (val $t:ty) => {
        $t
    };
    (ref $t:ty) => {
        &$t
    };
    (slice $t:ty) => {
        &[$t]
    };
    (str) => {
        &str
    };
}

#[macro_export]
#[doc(hidden)]
macro_rules! ipc_owned_type {
    (val $t:ty) => { $t };
    (ref $t:ty) => { $t };
    (slice $t:ty) => { Vec<$t> };
    (str) => { String };
}

#[macro_export]
#[doc(hidden)]
macro_rules! ipc_to_owned {
    ($x:ident, val $t:ty) => {
        $x
    };
    ($x:ident, ref $t:ty) => {
        $x.clone()
    };
    ($x:ident, slice $t:ty) => {
        $x.to_vec()
    };
    ($x:ident, str) => {
        $x.to_string()
    };
}

#[macro_export]
#[doc(hidden)]
macro_rules! ipc_borrow {
    ($x:ident, val $t:ty) => {
        $x
    };
    ($x:ident, ref $t:ty) => {
        &$x
    };
    ($x:ident, slice $t:ty) => {
        &$x[..]
    };
    ($x:ident, str) => {
        $x.as_str()
    };
}

/// The schema's (camelCase) name of the parameter `$arg`, worked out once.
#[macro_export]
#[doc(hidden)]
macro_rules! ipc_field_name {
    ($arg:ident) => {{
        static NAME: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        NAME.get_or_init(|| $crate::wire::camel(stringify!($arg)))
            .as_str()
    }};
}

/// One client method: sends the call and returns the decoded result, or
/// the [`Fallback`] after reporting the error.
#[macro_export]
#[doc(hidden)]
macro_rules! ipc_client_method {
    ($iface:literal, $method:ident, $request:ident,
     ($($arg:ident : $mode:ident $($t:ty)?),*) -> $ret:ty) => {
        fn $method(&self $(, $arg: $crate::ipc_param_type!($mode $($t)?))*) -> $ret {
            #[allow(unused_imports)]
            use $crate::wire::Wire as _;
            $(let $arg: $crate::ipc_owned_type!($mode $($t)?) = $crate::ipc_to_owned!($arg, $mode $($t)?);)*
            let (connection, client) = (self.proxy.connection.local().key(), self.proxy.client.key());
            let label: &'static str = {
                // `Iface.method` as the schema spells it (libmultiprocess's
                // log form), computed once.
                static LABEL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
                LABEL.get_or_init(|| format!("{}.{}", $iface, $crate::wire::camel(stringify!($method))))
            };
            let outcome = self.proxy.connection.handle().sync(move |caller| async move {
                let connection = connection.get().ok_or($crate::IpcError::Disconnected)?;
                let client = client.get().ok_or($crate::IpcError::Disconnected)?;
                let mut request = client.$request();
                {
                    let mut params = request.get();
                    connection.set_context(&caller, params.reborrow().init_context())?;
                    #[allow(unused_mut, unused_variables)]
                    let mut dynamic = capnp::dynamic_value::Builder::from(params)
                        .downcast::<capnp::dynamic_struct::Builder>();
                    $($arg.put(&mut dynamic, $crate::ipc_field_name!($arg))
                        .map_err(|e| $crate::IpcError::Protocol(e.to_string()))?;)*
                }
                let response = connection.call(&caller, label, request).await?;
                #[allow(unused_variables)]
                let results = capnp::dynamic_value::Reader::from(
                    response
                        .get()
                        .map_err(|e| $crate::IpcError::Protocol(e.to_string()))?,
                )
                .downcast::<capnp::dynamic_struct::Reader>();
                $crate::ipc_read_result!(results, $ret)
            });
            match outcome {
                Ok(value) => value,
                Err(error) => {
                    (self.on_disconnect)(&error);
                    <$ret as $crate::proxy::Fallback>::fallback(&error)
                }
            }
        }
    };
}

#[macro_export]
#[doc(hidden)]
macro_rules! ipc_read_result {
    ($results:ident, $ret:ty) => {
        <$ret as $crate::wire::Wire>::take(&$results, "result")
            .map_err(|e| $crate::IpcError::Protocol(e.to_string()))
    };
}

#[macro_export]
#[doc(hidden)]
macro_rules! ipc_write_result {
    ($results:ident, $value:ident, $ret:ty) => {
        $crate::wire::Wire::put(&$value, &mut $results, "result")?
    };
}

/// One server method: decodes the parameters, runs the trait method on
/// the worker the context names, encodes the result.
#[macro_export]
#[doc(hidden)]
macro_rules! ipc_server_method {
    ($iface:literal, $method:ident, $params:ty, $results:ty,
     ($($arg:ident : $mode:ident $($t:ty)?),*) -> $ret:ty) => {
        async fn $method(
            self: capnp::capability::Rc<Self>,
            params: $params,
            results: $results,
        ) -> Result<(), capnp::Error> {
            let label: &'static str = {
                // `Iface.method` as the schema spells it (libmultiprocess's
                // log form), computed once.
                static LABEL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
                LABEL.get_or_init(|| format!("{}.{}", $iface, $crate::wire::camel(stringify!($method))))
            };
            let params = params.get()?;
            let request = $crate::connection::ServerRequest::received(label, &params);
            let context = params.get_context();
            #[allow(unused_variables)]
            let dynamic = capnp::dynamic_value::Reader::from(params)
                .downcast::<capnp::dynamic_struct::Reader>();
            $(let $arg: $crate::ipc_owned_type!($mode $($t)?) =
                $crate::wire::Wire::take(&dynamic, $crate::ipc_field_name!($arg))?;)*
            let inner = self.inner.clone();
            let value = $crate::connection::run_on_worker(
                &self.connection,
                label,
                &request,
                context,
                move || inner.$method($($crate::ipc_borrow!($arg, $mode $($t)?)),*),
            )
            .await?;
            let mut results = results;
            #[allow(unused_mut, unused_variables)]
            let mut results = capnp::dynamic_value::Builder::from(results.get())
                .downcast::<capnp::dynamic_struct::Builder>();
            $crate::ipc_write_result!(results, value, $ret);
            request.responded(label, &"(...)");
            Ok(())
        }
    };
}

//! How the Rust values of `crates/interfaces` travel in c1pzo's own
//! schemas, once per type instead of once per method: consensus types as
//! consensus-serialized `Data`, JSON as `Text`, numbers and flags as
//! themselves, optional values as `<field>` + `has<Field>`, and the
//! interfaces' structs as the schema's structs, field by field. Fields
//! are reached by name through capnp's dynamic API, so the proxy macro in
//! [`crate::proxy`] needs nothing per method but the names.

use bitcoin::consensus::encode::{deserialize, serialize};
use bitcoin::{Amount, Block, BlockHash, FeeRate, OutPoint, Transaction, TxOut, Txid};
use capnp::dynamic_struct::{Builder, Reader};
use capnp::{dynamic_list, dynamic_value};
use interfaces::rpc::{RpcError, RpcRequest};
use interfaces::{BlockInfo, BlockRef, BlockTip, Coin, FoundBlock, RemovalReason, WalletBalances};
use serde_json::Value;

mod front_end;

/// A value that can be written to and read from a named field.
pub trait Wire: Sized {
    fn put(&self, builder: &mut Builder<'_>, field: &str) -> capnp::Result<()>;
    fn take(reader: &Reader<'_>, field: &str) -> capnp::Result<Self>;
}

/// Methods without a result.
impl Wire for () {
    fn put(&self, _: &mut Builder<'_>, _: &str) -> capnp::Result<()> {
        Ok(())
    }
    fn take(_: &Reader<'_>, _: &str) -> capnp::Result<Self> {
        Ok(())
    }
}

/// `snake_case` as the schema's `camelCase`.
pub fn camel(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

fn has_field(field: &str) -> String {
    let mut chars = field.chars();
    match chars.next() {
        Some(first) => format!("has{}{}", first.to_uppercase(), chars.as_str()),
        None => "has".into(),
    }
}

fn bad(what: &str) -> capnp::Error {
    capnp::Error::failed(format!("malformed {what}"))
}

fn struct_builder<'a>(builder: &'a mut Builder<'_>, field: &str) -> capnp::Result<Builder<'a>> {
    Ok(builder.reborrow().init_named(field)?.downcast::<Builder>())
}

fn struct_reader<'a>(reader: &Reader<'a>, field: &str) -> capnp::Result<Reader<'a>> {
    Ok(reader.get_named(field)?.downcast::<Reader>())
}

macro_rules! primitive {
    ($($t:ty),*) => {$(
        impl Wire for $t {
            fn put(&self, builder: &mut Builder<'_>, field: &str) -> capnp::Result<()> {
                builder.set_named(field, (*self).into())
            }
            fn take(reader: &Reader<'_>, field: &str) -> capnp::Result<Self> {
                Ok(reader.get_named(field)?.downcast::<$t>())
            }
        }
    )*};
}
primitive!(bool, u8, u32, i32, i64, u64);

impl Wire for String {
    fn put(&self, builder: &mut Builder<'_>, field: &str) -> capnp::Result<()> {
        builder.set_named(field, capnp::text::Reader::from(self.as_str()).into())
    }
    fn take(reader: &Reader<'_>, field: &str) -> capnp::Result<Self> {
        reader
            .get_named(field)?
            .downcast::<capnp::text::Reader>()
            .to_string()
            .map_err(|_| bad("text"))
    }
}

/// Raw bytes in a `Data` field.
fn put_bytes(builder: &mut Builder<'_>, field: &str, bytes: &[u8]) -> capnp::Result<()> {
    builder.set_named(field, capnp::data::Reader::from(bytes).into())
}

fn take_bytes<'a>(reader: &Reader<'a>, field: &str) -> capnp::Result<&'a [u8]> {
    Ok(reader.get_named(field)?.downcast::<capnp::data::Reader>())
}

macro_rules! consensus {
    ($($t:ty),*) => {$(
        impl Wire for $t {
            fn put(&self, builder: &mut Builder<'_>, field: &str) -> capnp::Result<()> {
                put_bytes(builder, field, &serialize(self))
            }
            fn take(reader: &Reader<'_>, field: &str) -> capnp::Result<Self> {
                deserialize(take_bytes(reader, field)?).map_err(|_| bad(stringify!($t)))
            }
        }
    )*};
}
consensus!(BlockHash, Txid, Transaction, Block, OutPoint, TxOut);

impl Wire for Amount {
    fn put(&self, builder: &mut Builder<'_>, field: &str) -> capnp::Result<()> {
        (self.to_sat() as i64).put(builder, field)
    }
    fn take(reader: &Reader<'_>, field: &str) -> capnp::Result<Self> {
        u64::try_from(i64::take(reader, field)?)
            .map(Amount::from_sat)
            .map_err(|_| bad("amount"))
    }
}

/// Fee rates in sat/kwu.
impl Wire for FeeRate {
    fn put(&self, builder: &mut Builder<'_>, field: &str) -> capnp::Result<()> {
        (self.to_sat_per_kwu() as i64).put(builder, field)
    }
    fn take(reader: &Reader<'_>, field: &str) -> capnp::Result<Self> {
        u64::try_from(i64::take(reader, field)?)
            .map(FeeRate::from_sat_per_kwu)
            .map_err(|_| bad("fee rate"))
    }
}

/// JSON in a `Text` field.
impl Wire for Value {
    fn put(&self, builder: &mut Builder<'_>, field: &str) -> capnp::Result<()> {
        self.to_string().put(builder, field)
    }
    fn take(reader: &Reader<'_>, field: &str) -> capnp::Result<Self> {
        serde_json::from_str(&String::take(reader, field)?).map_err(|_| bad("JSON"))
    }
}

impl<T: Wire> Wire for Option<T> {
    fn put(&self, builder: &mut Builder<'_>, field: &str) -> capnp::Result<()> {
        if let Some(value) = self {
            value.put(builder, field)?;
        }
        builder.set_named(&has_field(field), self.is_some().into())
    }
    fn take(reader: &Reader<'_>, field: &str) -> capnp::Result<Self> {
        if reader.get_named(&has_field(field))?.downcast::<bool>() {
            T::take(reader, field).map(Some)
        } else {
            Ok(None)
        }
    }
}

/// Lists of consensus types (`List(Data)`) and of texts.
trait ListItem: Sized {
    fn set(list: &mut dynamic_list::Builder<'_>, index: u32, value: &Self) -> capnp::Result<()>;
    fn get(value: dynamic_value::Reader<'_>) -> capnp::Result<Self>;
}

macro_rules! consensus_item {
    ($($t:ty),*) => {$(
        impl ListItem for $t {
            fn set(list: &mut dynamic_list::Builder<'_>, index: u32, value: &Self) -> capnp::Result<()> {
                list.set(index, capnp::data::Reader::from(&serialize(value)[..]).into())
            }
            fn get(value: dynamic_value::Reader<'_>) -> capnp::Result<Self> {
                deserialize(value.downcast::<capnp::data::Reader>()).map_err(|_| bad(stringify!($t)))
            }
        }
    )*};
}
consensus_item!(OutPoint, Transaction);

impl ListItem for String {
    fn set(list: &mut dynamic_list::Builder<'_>, index: u32, value: &Self) -> capnp::Result<()> {
        list.set(index, capnp::text::Reader::from(value.as_str()).into())
    }
    fn get(value: dynamic_value::Reader<'_>) -> capnp::Result<Self> {
        value
            .downcast::<capnp::text::Reader>()
            .to_string()
            .map_err(|_| bad("text"))
    }
}

impl<T: ListItem> Wire for Vec<T> {
    fn put(&self, builder: &mut Builder<'_>, field: &str) -> capnp::Result<()> {
        let mut list = builder
            .reborrow()
            .initn_named(field, self.len() as u32)?
            .downcast::<dynamic_list::Builder>();
        for (index, value) in self.iter().enumerate() {
            T::set(&mut list, index as u32, value)?;
        }
        Ok(())
    }
    fn take(reader: &Reader<'_>, field: &str) -> capnp::Result<Self> {
        let list = reader.get_named(field)?.downcast::<dynamic_list::Reader>();
        (0..list.len()).map(|i| T::get(list.get(i)?)).collect()
    }
}

impl Wire for BlockRef {
    fn put(&self, builder: &mut Builder<'_>, field: &str) -> capnp::Result<()> {
        let mut inner = struct_builder(builder, field)?;
        self.hash.put(&mut inner, "hash")?;
        self.height.put(&mut inner, "height")
    }
    fn take(reader: &Reader<'_>, field: &str) -> capnp::Result<Self> {
        let inner = struct_reader(reader, field)?;
        Ok(BlockRef {
            hash: Wire::take(&inner, "hash")?,
            height: Wire::take(&inner, "height")?,
        })
    }
}

impl Wire for FoundBlock {
    fn put(&self, builder: &mut Builder<'_>, field: &str) -> capnp::Result<()> {
        let mut inner = struct_builder(builder, field)?;
        self.hash.put(&mut inner, "hash")?;
        self.prev_hash.put(&mut inner, "prevHash")?;
        self.height.put(&mut inner, "height")?;
        self.time.put(&mut inner, "time")?;
        self.median_time_past.put(&mut inner, "medianTimePast")?;
        self.in_active_chain.put(&mut inner, "inActiveChain")?;
        self.data.put(&mut inner, "data")
    }
    fn take(reader: &Reader<'_>, field: &str) -> capnp::Result<Self> {
        let inner = struct_reader(reader, field)?;
        Ok(FoundBlock {
            hash: Wire::take(&inner, "hash")?,
            prev_hash: Wire::take(&inner, "prevHash")?,
            height: Wire::take(&inner, "height")?,
            time: Wire::take(&inner, "time")?,
            median_time_past: Wire::take(&inner, "medianTimePast")?,
            in_active_chain: Wire::take(&inner, "inActiveChain")?,
            data: Wire::take(&inner, "data")?,
        })
    }
}

impl Wire for BlockInfo {
    fn put(&self, builder: &mut Builder<'_>, field: &str) -> capnp::Result<()> {
        let mut inner = struct_builder(builder, field)?;
        self.hash.put(&mut inner, "hash")?;
        self.prev_hash.put(&mut inner, "prevHash")?;
        self.height.put(&mut inner, "height")?;
        self.data.put(&mut inner, "data")
    }
    fn take(reader: &Reader<'_>, field: &str) -> capnp::Result<Self> {
        let inner = struct_reader(reader, field)?;
        Ok(BlockInfo {
            hash: Wire::take(&inner, "hash")?,
            prev_hash: Wire::take(&inner, "prevHash")?,
            height: Wire::take(&inner, "height")?,
            data: Wire::take(&inner, "data")?,
        })
    }
}

/// `find_coins`' answer: `List(OptionalCoin)`.
impl Wire for Vec<Option<Coin>> {
    fn put(&self, builder: &mut Builder<'_>, field: &str) -> capnp::Result<()> {
        let mut list = builder
            .reborrow()
            .initn_named(field, self.len() as u32)?
            .downcast::<dynamic_list::Builder>();
        for (index, coin) in self.iter().enumerate() {
            let mut entry = list.reborrow().get(index as u32)?.downcast::<Builder>();
            if let Some(coin) = coin {
                let mut inner = struct_builder(&mut entry, "result")?;
                coin.output.put(&mut inner, "output")?;
                coin.height.put(&mut inner, "height")?;
                coin.is_coinbase.put(&mut inner, "isCoinbase")?;
            }
            coin.is_some().put(&mut entry, "hasResult")?;
        }
        Ok(())
    }
    fn take(reader: &Reader<'_>, field: &str) -> capnp::Result<Self> {
        let list = reader.get_named(field)?.downcast::<dynamic_list::Reader>();
        let mut out = Vec::with_capacity(list.len() as usize);
        for index in 0..list.len() {
            let entry = list.get(index)?.downcast::<Reader>();
            if !bool::take(&entry, "hasResult")? {
                out.push(None);
                continue;
            }
            let inner = struct_reader(&entry, "result")?;
            out.push(Some(Coin {
                output: Wire::take(&inner, "output")?,
                height: Wire::take(&inner, "height")?,
                is_coinbase: Wire::take(&inner, "isCoinbase")?,
            }));
        }
        Ok(out)
    }
}

/// A value or an error message: the schema's `Outcome` (no value) and
/// the `*Outcome` structs whose `value` field carries one.
impl<T: Wire> Wire for Result<T, String> {
    fn put(&self, builder: &mut Builder<'_>, field: &str) -> capnp::Result<()> {
        let mut inner = struct_builder(builder, field)?;
        self.is_ok().put(&mut inner, "ok")?;
        match self {
            Ok(value) => value.put(&mut inner, "value"),
            Err(error) => error.put(&mut inner, "error"),
        }
    }
    fn take(reader: &Reader<'_>, field: &str) -> capnp::Result<Self> {
        let inner = struct_reader(reader, field)?;
        if bool::take(&inner, "ok")? {
            Ok(Ok(T::take(&inner, "value")?))
        } else {
            Ok(Err(String::take(&inner, "error")?))
        }
    }
}

impl Wire for BlockTip {
    fn put(&self, builder: &mut Builder<'_>, field: &str) -> capnp::Result<()> {
        let mut inner = struct_builder(builder, field)?;
        self.hash.put(&mut inner, "hash")?;
        self.height.put(&mut inner, "height")?;
        self.time.put(&mut inner, "time")
    }
    fn take(reader: &Reader<'_>, field: &str) -> capnp::Result<Self> {
        let inner = struct_reader(reader, field)?;
        Ok(BlockTip {
            hash: Wire::take(&inner, "hash")?,
            height: Wire::take(&inner, "height")?,
            time: Wire::take(&inner, "time")?,
        })
    }
}

impl Wire for WalletBalances {
    fn put(&self, builder: &mut Builder<'_>, field: &str) -> capnp::Result<()> {
        let mut inner = struct_builder(builder, field)?;
        self.trusted.put(&mut inner, "trusted")?;
        self.untrusted_pending.put(&mut inner, "untrustedPending")?;
        self.immature.put(&mut inner, "immature")
    }
    fn take(reader: &Reader<'_>, field: &str) -> capnp::Result<Self> {
        let inner = struct_reader(reader, field)?;
        Ok(WalletBalances {
            trusted: Wire::take(&inner, "trusted")?,
            untrusted_pending: Wire::take(&inner, "untrustedPending")?,
            immature: Wire::take(&inner, "immature")?,
        })
    }
}

impl Wire for RemovalReason {
    fn put(&self, builder: &mut Builder<'_>, field: &str) -> capnp::Result<()> {
        let code: u8 = match self {
            RemovalReason::Expiry => 0,
            RemovalReason::SizeLimit => 1,
            RemovalReason::Reorg => 2,
            RemovalReason::Block => 3,
            RemovalReason::Conflict => 4,
            RemovalReason::Replaced => 5,
        };
        code.put(builder, field)
    }
    fn take(reader: &Reader<'_>, field: &str) -> capnp::Result<Self> {
        Ok(match u8::take(reader, field)? {
            0 => RemovalReason::Expiry,
            1 => RemovalReason::SizeLimit,
            2 => RemovalReason::Reorg,
            3 => RemovalReason::Block,
            4 => RemovalReason::Conflict,
            5 => RemovalReason::Replaced,
            _ => return Err(bad("removal reason")),
        })
    }
}

impl Wire for RpcRequest {
    fn put(&self, builder: &mut Builder<'_>, field: &str) -> capnp::Result<()> {
        let mut inner = struct_builder(builder, field)?;
        self.method.put(&mut inner, "method")?;
        self.params.put(&mut inner, "params")?;
        self.uri.put(&mut inner, "uri")?;
        self.synced.put(&mut inner, "synced")
    }
    fn take(reader: &Reader<'_>, field: &str) -> capnp::Result<Self> {
        let inner = struct_reader(reader, field)?;
        Ok(RpcRequest {
            method: Wire::take(&inner, "method")?,
            params: Wire::take(&inner, "params")?,
            uri: Wire::take(&inner, "uri")?,
            synced: Wire::take(&inner, "synced")?,
        })
    }
}

/// An RPC's answer: the schema's `RpcReply`.
impl Wire for Result<Value, RpcError> {
    fn put(&self, builder: &mut Builder<'_>, field: &str) -> capnp::Result<()> {
        let mut inner = struct_builder(builder, field)?;
        match self {
            Ok(value) => {
                value.put(&mut inner, "result")?;
                false.put(&mut inner, "isError")
            }
            Err(error) => {
                error.code.put(&mut inner, "errorCode")?;
                error.message.put(&mut inner, "errorMessage")?;
                true.put(&mut inner, "isError")
            }
        }
    }
    fn take(reader: &Reader<'_>, field: &str) -> capnp::Result<Self> {
        let inner = struct_reader(reader, field)?;
        if bool::take(&inner, "isError")? {
            Ok(Err(RpcError::new(
                i32::take(&inner, "errorCode")?,
                String::take(&inner, "errorMessage")?,
            )))
        } else {
            Ok(Ok(<Value as Wire>::take(&inner, "result")?))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_case_fields_become_the_schemas_camel_case() {
        assert_eq!(camel("with_data"), "withData");
        assert_eq!(camel("old_tip"), "oldTip");
        assert_eq!(camel("tx"), "tx");
        assert_eq!(has_field("result"), "hasResult");
    }
}

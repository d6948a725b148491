//! Bitcoin Core's `Mining` and `BlockTemplate`, served with Core's schema
//! (`mining.capnp`) over any [`interfaces::Mining`]: what an external
//! miner built against Core's published IPC talks to.

use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use bitcoin::consensus::encode::{deserialize, serialize};
use bitcoin::hashes::Hash;
use bitcoin::{Block, BlockHash, Transaction, Txid, Wtxid};
use interfaces::{BlockCreateOptions, BlockRef, BlockTemplate, BlockVerdict, Mining};

use crate::common_capnp::block_ref;
use crate::connection::{run_on_worker, Connection, ServerRequest};
use crate::mining_capnp::{block_template, mining};

pub struct MiningServer {
    pub connection: Rc<Connection>,
    pub inner: Arc<dyn Mining>,
}

fn malformed(what: &str) -> capnp::Error {
    capnp::Error::failed(format!("malformed {what}"))
}

fn put_block_ref(mut out: block_ref::Builder, tip: &BlockRef) {
    out.set_hash(&tip.hash.to_byte_array());
    out.set_height(tip.height as i32);
}

/// Core's `timeout` parameters: milliseconds as a double.
fn millis(value: f64) -> Duration {
    if value.is_finite() && value >= 0.0 {
        Duration::from_secs_f64((value / 1000.0).min(1e9))
    } else {
        Duration::from_secs(1_000_000_000)
    }
}

macro_rules! verdict_results {
    ($results:expr, $verdict:expr) => {{
        let verdict: BlockVerdict = $verdict;
        let mut out = $results.get();
        out.set_result(verdict.accepted);
        out.set_reason(verdict.reason.as_str());
        out.set_debug(verdict.debug.as_str());
    }};
}

impl mining::Server for MiningServer {
    async fn is_test_chain(
        self: capnp::capability::Rc<Self>,
        params: mining::IsTestChainParams,
        mut results: mining::IsTestChainResults,
    ) -> Result<(), capnp::Error> {
        let params = params.get()?;
        let request = ServerRequest::received("Mining.isTestChain", &params);
        let inner = self.inner.clone();
        let answer = run_on_worker(
            &self.connection,
            "Mining.isTestChain",
            &request,
            params.get_context(),
            move || inner.is_test_chain(),
        )
        .await?;
        results.get().set_result(answer);
        request.responded("Mining.isTestChain", &answer);
        Ok(())
    }

    async fn is_initial_block_download(
        self: capnp::capability::Rc<Self>,
        params: mining::IsInitialBlockDownloadParams,
        mut results: mining::IsInitialBlockDownloadResults,
    ) -> Result<(), capnp::Error> {
        let params = params.get()?;
        let label = "Mining.isInitialBlockDownload";
        let request = ServerRequest::received(label, &params);
        let inner = self.inner.clone();
        let answer = run_on_worker(
            &self.connection,
            label,
            &request,
            params.get_context(),
            move || inner.is_initial_block_download(),
        )
        .await?;
        results.get().set_result(answer);
        request.responded(label, &answer);
        Ok(())
    }

    async fn get_tip(
        self: capnp::capability::Rc<Self>,
        params: mining::GetTipParams,
        mut results: mining::GetTipResults,
    ) -> Result<(), capnp::Error> {
        let params = params.get()?;
        let label = "Mining.getTip";
        let request = ServerRequest::received(label, &params);
        let inner = self.inner.clone();
        let tip = run_on_worker(
            &self.connection,
            label,
            &request,
            params.get_context(),
            move || inner.get_tip(),
        )
        .await?;
        let mut out = results.get();
        if let Some(tip) = &tip {
            put_block_ref(out.reborrow().init_result(), tip);
        }
        out.set_has_result(tip.is_some());
        request.responded(label, &"(result = <BlockRef>)");
        Ok(())
    }

    async fn wait_tip_changed(
        self: capnp::capability::Rc<Self>,
        params: mining::WaitTipChangedParams,
        mut results: mining::WaitTipChangedResults,
    ) -> Result<(), capnp::Error> {
        let params = params.get()?;
        let label = "Mining.waitTipChanged";
        let request = ServerRequest::received(label, &params);
        let current = BlockHash::from_slice(params.get_current_tip()?)
            .map_err(|_| malformed("block hash"))?;
        let timeout = millis(params.get_timeout());
        let inner = self.inner.clone();
        let tip = run_on_worker(
            &self.connection,
            label,
            &request,
            params.get_context(),
            move || inner.wait_tip_changed(current, timeout),
        )
        .await?;
        if let Some(tip) = &tip {
            put_block_ref(results.get().init_result(), tip);
        }
        request.responded(label, &"(result = <BlockRef>)");
        Ok(())
    }

    async fn create_new_block(
        self: capnp::capability::Rc<Self>,
        params: mining::CreateNewBlockParams,
        mut results: mining::CreateNewBlockResults,
    ) -> Result<(), capnp::Error> {
        let params = params.get()?;
        let label = "Mining.createNewBlock";
        let request = ServerRequest::received(label, &params);
        let wire = params.get_options()?;
        let options = BlockCreateOptions {
            use_mempool: wire.get_use_mempool(),
            block_reserved_weight: wire.get_block_reserved_weight(),
            coinbase_output_max_additional_sigops: wire.get_coinbase_output_max_additional_sigops(),
        };
        let inner = self.inner.clone();
        let template = run_on_worker(
            &self.connection,
            label,
            &request,
            params.get_context(),
            move || inner.create_new_block(options),
        )
        .await?
        .map_err(|e| {
            let error = capnp::Error::failed(e);
            request.failed(label, &error);
            error
        })?;
        let server = TemplateServer {
            connection: self.connection.clone(),
            inner: Arc::from(template),
        };
        results.get().set_result(capnp_rpc::new_client(server));
        request.responded(label, &"(result = <BlockTemplate>)");
        Ok(())
    }

    async fn check_block(
        self: capnp::capability::Rc<Self>,
        params: mining::CheckBlockParams,
        mut results: mining::CheckBlockResults,
    ) -> Result<(), capnp::Error> {
        let params = params.get()?;
        let label = "Mining.checkBlock";
        let request = ServerRequest::received(label, &params);
        let block: Block = deserialize(params.get_block()?).map_err(|_| malformed("block"))?;
        let options = params.get_options()?;
        let (merkle, pow) = (options.get_check_merkle_root(), options.get_check_pow());
        let inner = self.inner.clone();
        let verdict = run_on_worker(
            &self.connection,
            label,
            &request,
            params.get_context(),
            move || inner.check_block(&block, merkle, pow),
        )
        .await?;
        verdict_results!(results, verdict);
        request.responded(label, &"(result, reason, debug)");
        Ok(())
    }

    async fn interrupt(
        self: capnp::capability::Rc<Self>,
        _: mining::InterruptParams,
        _: mining::InterruptResults,
    ) -> Result<(), capnp::Error> {
        // No context: it must work while every worker is waiting.
        self.inner.interrupt();
        Ok(())
    }

    async fn submit_block(
        self: capnp::capability::Rc<Self>,
        params: mining::SubmitBlockParams,
        mut results: mining::SubmitBlockResults,
    ) -> Result<(), capnp::Error> {
        let params = params.get()?;
        let label = "Mining.submitBlock";
        let request = ServerRequest::received(label, &params);
        let block: Block = deserialize(params.get_block()?).map_err(|_| malformed("block"))?;
        let inner = self.inner.clone();
        let verdict = run_on_worker(
            &self.connection,
            label,
            &request,
            params.get_context(),
            move || inner.submit_block(&block),
        )
        .await?;
        verdict_results!(results, verdict);
        request.responded(label, &"(result, reason, debug)");
        Ok(())
    }

    async fn get_transactions_by_tx_i_d(
        self: capnp::capability::Rc<Self>,
        params: mining::GetTransactionsByTxIDParams,
        mut results: mining::GetTransactionsByTxIDResults,
    ) -> Result<(), capnp::Error> {
        let params = params.get()?;
        let label = "Mining.getTransactionsByTxID";
        let request = ServerRequest::received(label, &params);
        let txids: Vec<Txid> = params
            .get_txids()?
            .iter()
            .map(|d| {
                d.ok()
                    .and_then(|d| Txid::from_slice(d).ok())
                    .ok_or_else(|| malformed("txid"))
            })
            .collect::<Result<_, _>>()?;
        let inner = self.inner.clone();
        let found = run_on_worker(
            &self.connection,
            label,
            &request,
            params.get_context(),
            move || inner.transactions_by_txid(&txids),
        )
        .await?;
        put_transactions(results.get().init_result(found.len() as u32), &found);
        request.responded(label, &"(result = <transactions>)");
        Ok(())
    }

    async fn get_transactions_by_witness_i_d(
        self: capnp::capability::Rc<Self>,
        params: mining::GetTransactionsByWitnessIDParams,
        mut results: mining::GetTransactionsByWitnessIDResults,
    ) -> Result<(), capnp::Error> {
        let params = params.get()?;
        let label = "Mining.getTransactionsByWitnessID";
        let request = ServerRequest::received(label, &params);
        let wtxids: Vec<Wtxid> = params
            .get_wtxids()?
            .iter()
            .map(|d| {
                d.ok()
                    .and_then(|d| Wtxid::from_slice(d).ok())
                    .ok_or_else(|| malformed("wtxid"))
            })
            .collect::<Result<_, _>>()?;
        let inner = self.inner.clone();
        let found = run_on_worker(
            &self.connection,
            label,
            &request,
            params.get_context(),
            move || inner.transactions_by_wtxid(&wtxids),
        )
        .await?;
        put_transactions(results.get().init_result(found.len() as u32), &found);
        request.responded(label, &"(result = <transactions>)");
        Ok(())
    }
}

/// Serialized transactions; an empty entry for one not found.
fn put_transactions(mut list: capnp::data_list::Builder, found: &[Option<Transaction>]) {
    for (index, tx) in found.iter().enumerate() {
        let bytes = tx.as_ref().map(serialize).unwrap_or_default();
        list.set(index as u32, &bytes);
    }
}

pub struct TemplateServer {
    connection: Rc<Connection>,
    inner: Arc<dyn BlockTemplate>,
}

impl block_template::Server for TemplateServer {
    async fn destroy(
        self: capnp::capability::Rc<Self>,
        _: block_template::DestroyParams,
        _: block_template::DestroyResults,
    ) -> Result<(), capnp::Error> {
        Ok(())
    }

    async fn get_block_header(
        self: capnp::capability::Rc<Self>,
        _: block_template::GetBlockHeaderParams,
        mut results: block_template::GetBlockHeaderResults,
    ) -> Result<(), capnp::Error> {
        results.get().set_result(&serialize(&self.inner.header()));
        Ok(())
    }

    async fn get_block(
        self: capnp::capability::Rc<Self>,
        _: block_template::GetBlockParams,
        mut results: block_template::GetBlockResults,
    ) -> Result<(), capnp::Error> {
        results.get().set_result(&serialize(&self.inner.block()));
        Ok(())
    }

    async fn get_tx_fees(
        self: capnp::capability::Rc<Self>,
        _: block_template::GetTxFeesParams,
        mut results: block_template::GetTxFeesResults,
    ) -> Result<(), capnp::Error> {
        let fees = self.inner.tx_fees();
        let mut list = results.get().init_result(fees.len() as u32);
        for (i, fee) in fees.iter().enumerate() {
            list.set(i as u32, *fee);
        }
        Ok(())
    }

    async fn get_tx_sigops(
        self: capnp::capability::Rc<Self>,
        _: block_template::GetTxSigopsParams,
        mut results: block_template::GetTxSigopsResults,
    ) -> Result<(), capnp::Error> {
        let sigops = self.inner.tx_sigops();
        let mut list = results.get().init_result(sigops.len() as u32);
        for (i, count) in sigops.iter().enumerate() {
            list.set(i as u32, *count);
        }
        Ok(())
    }

    async fn get_coinbase_tx(
        self: capnp::capability::Rc<Self>,
        _: block_template::GetCoinbaseTxParams,
        mut results: block_template::GetCoinbaseTxResults,
    ) -> Result<(), capnp::Error> {
        let coinbase = self.inner.coinbase();
        let mut out = results.get().init_result();
        out.set_version(coinbase.version);
        out.set_sequence(coinbase.sequence);
        out.set_script_sig_prefix(&coinbase.script_sig_prefix);
        if let Some(witness) = &coinbase.witness {
            out.set_witness(witness);
        }
        out.set_block_reward_remaining(coinbase.block_reward_remaining);
        let mut outputs = out
            .reborrow()
            .init_required_outputs(coinbase.required_outputs.len() as u32);
        for (i, output) in coinbase.required_outputs.iter().enumerate() {
            outputs.set(i as u32, &serialize(output));
        }
        out.set_lock_time(coinbase.lock_time);
        Ok(())
    }

    async fn get_coinbase_merkle_path(
        self: capnp::capability::Rc<Self>,
        _: block_template::GetCoinbaseMerklePathParams,
        mut results: block_template::GetCoinbaseMerklePathResults,
    ) -> Result<(), capnp::Error> {
        let path = self.inner.coinbase_merkle_path();
        let mut list = results.get().init_result(path.len() as u32);
        for (i, hash) in path.iter().enumerate() {
            list.set(i as u32, hash);
        }
        Ok(())
    }

    async fn submit_solution_old7(
        self: capnp::capability::Rc<Self>,
        params: block_template::SubmitSolutionOld7Params,
        mut results: block_template::SubmitSolutionOld7Results,
    ) -> Result<(), capnp::Error> {
        let params = params.get()?;
        let label = "BlockTemplate.submitSolutionOld7";
        let request = ServerRequest::received(label, &params);
        let coinbase: Transaction =
            deserialize(params.get_coinbase()?).map_err(|_| malformed("coinbase"))?;
        let (version, time, nonce) = (
            params.get_version(),
            params.get_timestamp(),
            params.get_nonce(),
        );
        let inner = self.inner.clone();
        let verdict = run_on_worker(
            &self.connection,
            label,
            &request,
            params.get_context(),
            move || inner.submit_solution(version, time, nonce, coinbase),
        )
        .await?;
        results.get().set_result(verdict.accepted);
        Ok(())
    }

    async fn wait_next(
        self: capnp::capability::Rc<Self>,
        params: block_template::WaitNextParams,
        mut results: block_template::WaitNextResults,
    ) -> Result<(), capnp::Error> {
        let params = params.get()?;
        let label = "BlockTemplate.waitNext";
        let request = ServerRequest::received(label, &params);
        let options = params.get_options()?;
        let (timeout, threshold) = (millis(options.get_timeout()), options.get_fee_threshold());
        let inner = self.inner.clone();
        let next = run_on_worker(
            &self.connection,
            label,
            &request,
            params.get_context(),
            move || inner.wait_next(timeout, threshold),
        )
        .await?;
        // None (timed out or interrupted): the result stays a null capability.
        if let Some(next) = next {
            results
                .get()
                .set_result(capnp_rpc::new_client(TemplateServer {
                    connection: self.connection.clone(),
                    inner: Arc::from(next),
                }));
        }
        request.responded(label, &"(result = <BlockTemplate>)");
        Ok(())
    }

    async fn interrupt_wait(
        self: capnp::capability::Rc<Self>,
        _: block_template::InterruptWaitParams,
        _: block_template::InterruptWaitResults,
    ) -> Result<(), capnp::Error> {
        self.inner.interrupt_wait();
        Ok(())
    }

    async fn submit_solution(
        self: capnp::capability::Rc<Self>,
        params: block_template::SubmitSolutionParams,
        mut results: block_template::SubmitSolutionResults,
    ) -> Result<(), capnp::Error> {
        let params = params.get()?;
        let label = "BlockTemplate.submitSolution";
        let request = ServerRequest::received(label, &params);
        let coinbase: Transaction =
            deserialize(params.get_coinbase()?).map_err(|_| malformed("coinbase"))?;
        let (version, time, nonce) = (
            params.get_version(),
            params.get_timestamp(),
            params.get_nonce(),
        );
        let inner = self.inner.clone();
        let verdict = run_on_worker(
            &self.connection,
            label,
            &request,
            params.get_context(),
            move || inner.submit_solution(version, time, nonce, coinbase),
        )
        .await?;
        verdict_results!(results, verdict);
        request.responded(label, &"(result, reason, debug)");
        Ok(())
    }
}

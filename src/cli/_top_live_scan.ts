// The live scan of `fstrm top -u`: the receiver's runs of data frames go
// through the one-pass engine of `fstrm top -r` (frame scan, dnstap scan and
// top's key lists in one WebAssembly call), so that top counts a batch's few
// distinct keys, not its rows, as on files; connections read into slots of
// the engine's window (`readBuffers`) and their runs are scanned in place.
// It is the scan under the public DnstapRunScanner (_dnstap_run_window.ts),
// here with top's key lists (its callback never returns a promise).
export { RunWindowScanner as LiveWindowScanner } from "../_dnstap_run_window.ts";

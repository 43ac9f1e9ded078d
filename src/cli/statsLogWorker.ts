/**
 * The log reader thread of `dap stats FILE --log LOG` on a large log (core/projectStats.ts, logWorker):
 * reads and spills the log (core/spilledLog.ts logWorkerMain) while the main thread reads the task file,
 * then posts what it read. Bundled as dist/statsLogWorker.js, beside dist/cli.js.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { logWorkerMain, type LogWorkerTask } from '../core/spilledLog';

void logWorkerMain(workerData as LogWorkerTask).then((log) => parentPort!.postMessage(log));

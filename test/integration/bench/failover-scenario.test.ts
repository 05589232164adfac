// The failover bench scenario end to end, small: one kill -9 run and a short false-failover check
// on a real cluster (6 nodes, coordinator, proxy). Asserts the report's shape, that the failover
// happened and nothing WAIT-acknowledged was lost, and that every process was stopped.
import { afterAll, describe, expect, it } from 'vitest';
import { buildFailoverReport, renderFailoverConsole, renderFailoverMarkdown } from '../../../bench/failover-report.js';
import { runFailoverScenario } from '../../../bench/failover.js';
import { stopAll } from '../../../bench/processes.js';

afterAll(async () => {
  await stopAll();
});

describe('bench failover scenario', () => {
  it('one run: the group fails over, WAIT-acknowledged writes all survive, the report has its checks', async () => {
    const settings = { runs: 1, idleSeconds: 2, waitTimeoutMs: 100 };
    const { runs, idle } = await runFailoverScenario(settings, () => {});
    const report = buildFailoverReport({
      startedAt: new Date().toISOString(),
      environment: { cpus: 2, cpuModel: 'test', node: process.version },
      settings: { ...settings, downAfterMs: 1000, healthIntervalMs: 250 },
    }, runs, idle, []);
    console.log(renderFailoverConsole(report));
    expect(report.runs).toHaveLength(1);
    const run = report.runs[0]!;
    // Nothing else answered at the killed master's address (another process taking the port).
    expect(run.invalid).toBeNull();
    expect(run.recoveryMs).not.toBeNull();
    expect(run.newMaster).not.toBe(run.oldMaster);
    expect(run.ackedBeforeKill).toBeGreaterThan(0);
    expect(run.acked).toBeGreaterThan(run.ackedBeforeKill);
    expect(run.waitAcked).toBeGreaterThan(0);
    expect(run.lostWithWait).toBe(0);
    expect(run.otherGroupErrors).toBe(0);
    expect(report.summary.recoveryMedianMs).toBe(run.recoveryMs);
    expect(report.summary.recoveryMaxMs).toBe(run.recoveryMs);
    expect(report.summary.lostWithWaitTotal).toBe(0);
    expect(report.idle).toMatchObject({ seconds: 2, failovers: expect.any(Number), mastersChanged: expect.any(Boolean) });
    expect(report.idle!.requestsPerSecond).toBeGreaterThan(0);
    expect(report.checks.map((c) => c.name)).toEqual([
      'median time to writes again', 'max time to writes again', 'acknowledged writes lost with WAIT 1', 'false failovers in 2 s of heavy load',
    ]);
    expect(report.checks.find((c) => c.name === 'acknowledged writes lost with WAIT 1')!.pass).toBe(true);
    expect(report.pass).toBe(report.checks.every((c) => c.pass));
    expect(renderFailoverMarkdown(report)).toContain('| lost with WAIT |');
  }, 120_000);
});

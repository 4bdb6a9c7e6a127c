// Agents from before leases, rollout records and history (the agent of the commit before them, built
// from git): a rollout still runs, without a lease there, and says so on every agent; fleet status
// shows what runs and that who put it there is unknown; fleet history has nothing and says why;
// --resume from another controller has nothing to read there and says so. README.md ("Old agents").
import assert from 'node:assert/strict';
import { fleet, scratchHome } from '../harness/cli';
import { agentBeforeLeases, buildAgentOf, cloneServiceFolder, fleetOfAgents, stopFleet } from './teamFleet';

describe('agents from before leases (the agent of the previous commit, built from git)', function () {
  this.timeout(300_000);
  let oldAgent: string;

  before(async () => {
    oldAgent = await buildAgentOf(agentBeforeLeases);
  });

  it('a rollout runs without leases there and warns on each agent; status and history say what they cannot know', async () => {
    const f = await fleetOfAgents(oldAgent, 2);
    try {
      // the agents answer as agents of before: no lease route
      const info = await f.agents[0].client.info();
      assert.match(info.version, /before-leases/);
      const home = scratchHome();
      const r = await fleet(['rollout', f.serviceFile], { home });
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /lease taken on 0 agent\(s\)/);
      for (const a of f.agents)
        assert.match(
          r.stdout,
          new RegExp(
            `note: agent ${a.endpoint.replace(/\./g, '\\.')} predates leases and rollout records: rolled out without a lease there .*upgrade it with fleet agent deploy`,
          ),
        );
      assert.match(r.stdout, /end state: ESSuccess/);

      const st = await fleet(['status', f.serviceFile], { home });
      assert.equal(st.code, 0, st.stdout + st.stderr);
      assert.match(st.stdout, /last successful rollout: none recorded on these agents/);
      assert.match(st.stdout, /running +[0-9a-f]{12} +unknown \(before history\) +none/);
      assert.match(st.stdout, /warning: agent \S+ predates history: who changed \S+ is unknown/);

      const h = await fleet(['history', f.serviceFile], { home });
      assert.equal(h.code, 0, h.stdout + h.stderr);
      assert.match(h.stdout, /no history of package web on these agents/);
      assert.match(h.stderr, /warning: agent \S+ predates history \(upgrade it with fleet agent deploy\)/);

      // another controller has nothing to resume from: the old agents recorded nothing
      const resume = await fleet(['rollout', cloneServiceFolder(f), '--resume'], { home: scratchHome() });
      assert.equal(resume.code, 64, resume.stdout + resume.stderr);
      assert.match(resume.stderr, /predates rollout records/);
      assert.match(resume.stderr, /cannot resume: no rollout of .* and its agents recorded none of package web/);
    } finally {
      await stopFleet(f);
    }
  });
});

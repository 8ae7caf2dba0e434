// One comment per pull request, found by its marker and updated in place on later pushes.
// Called from actions/github-script: upsert({github, context}, {title, body}), the body made of
// costBody (the environment's idle cost from the cost job) and outputsBody (its outputs).
const MARKER = '<!-- tap-pr-environment -->';

// The viewer URL (the `viewer_url` output, else https:// and the distribution's domain) and a
// short table of the deployed outputs (cfn-outputs/flat-outputs.json, nested by stack name).
function outputsBody(outputsJson) {
  const parsed = JSON.parse(outputsJson || '{}');
  const values = Object.values(parsed).length === 1 && typeof Object.values(parsed)[0] === 'object'
    ? Object.values(parsed)[0] : parsed;
  const viewer = values.viewer_url
    || (values.cloudfront_domain_name ? `https://${values.cloudfront_domain_name}` : null);
  const shown = ['environment_suffix', 'aws_region', 'cloudfront_domain_name', 'alb_dns_name',
    'ecs_cluster_name', 'ecs_service_name', 'aurora_cluster_identifier', 'redis_cache_name',
    'dashboard_name'];
  const rows = shown.filter((name) => values[name] !== undefined)
    .map((name) => `| \`${name}\` | \`${String(values[name]).replace(/\|/g, '\\|')}\` |`);
  return [viewer ? `**Viewer:** ${viewer}` : '_no viewer URL in the outputs_', '',
    '| output | value |', '| --- | --- |', ...rows].join('\n');
}

// The synthesized label (scripts/synth_profiles.py) that stands for this environment: on the
// shared pieces, in a given network, or in its own VPC.
function costLabel(env) {
  if (env.SHARED_WEB_ACL_ARN) return 'pr4892-shared';
  return env.VPC_ID ? 'pr4892-byon' : 'pr4892';
}

const usd = (value) => `$${value.toFixed(2)}`;

// The monthly idle cost of the label (make cost on this head) and its change against the base
// branch's; with the shared pieces, their share per environment, which is not in the total.
function costBody(headJson, baseJson, label) {
  const head = JSON.parse(headJson || '{}');
  const base = JSON.parse(baseJson || '{}');
  const now = (head.labels || {})[label];
  if (now === undefined) return '**Idle cost:** not estimated (the cost job did not finish)';
  const before = (base.labels || {})[label];
  const change = before === undefined ? 'the base branch has no estimate for it'
    : `${now >= before ? '+' : '-'}${usd(Math.abs(now - before))} against the base branch ` +
      `(${usd(before)})`;
  const shares = Object.values(head.shared || {});
  const shared = label.endsWith('-shared') && shares.length
    ? `; the shared pieces add ${usd(shares[0])} each, counted apart` : '';
  return `**Idle cost:** ${usd(now)} a month (\`make cost\`, label \`${label}\`), ` +
    `${change}${shared}`;
}

async function upsert({ github, context }, { title, body }) {
  const { owner, repo } = context.repo;
  const issue_number = context.payload.pull_request.number;
  const text = `${MARKER}\n### ${title}\n\n${body}\n\n_${context.sha.slice(0, 7)}, run ` +
    `[${context.runId}](${context.serverUrl}/${owner}/${repo}/actions/runs/${context.runId})_`;
  const comments = await github.paginate(github.rest.issues.listComments,
    { owner, repo, issue_number, per_page: 100 });
  const previous = comments.find((c) => c.body && c.body.startsWith(MARKER));
  if (previous) {
    await github.rest.issues.updateComment({ owner, repo, comment_id: previous.id, body: text });
  } else {
    await github.rest.issues.createComment({ owner, repo, issue_number, body: text });
  }
}

module.exports = { costBody, costLabel, outputsBody, upsert };

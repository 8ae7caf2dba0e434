// One comment per pull request, found by its marker and updated in place on later pushes.
// Called from actions/github-script: module.exports({github, context, core}, {title, body}).
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

module.exports = { outputsBody, upsert };

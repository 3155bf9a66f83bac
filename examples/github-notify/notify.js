// A Kindling (and OpenWhisk) action, run by the rule `pr-opened` for each pull request opened on
// the repository. The github/webhook event's data is GitHub's payload, and it arrives as the
// parameters: `action`, `number`, `pull_request`, `repository`, `sender`.
function main(params) {
  const pr = params.pull_request;
  const text = `${params.sender.login} opened #${params.number} on ${params.repository.full_name}: "${pr.title}" (${pr.head.ref} → ${pr.base.ref}) ${pr.html_url}`;
  console.log(text);
  return { text, repository: params.repository.full_name, number: params.number, draft: pr.draft === true };
}

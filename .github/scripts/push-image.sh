#!/usr/bin/env bash
# Builds the application's image and pushes it to this account's ECR, once per commit, then
# writes the digest ECR stores for it to $GITHUB_OUTPUT (digest=sha256:...): the deploy runs
# CONTAINER_IMAGE=ecr:<repository>@<digest> (lib/images.py: this account's ECR in the stack's
# region). Called by the deploy jobs of pull-request.yml and main.yml (docs/ci-cd.md).
#
# Environment: APP_REPOSITORY (tap/app, made by `make bootstrap`), APP_DOCKERFILE (built from
# the repository root, as app/Dockerfile says), IMAGE_TAG (the commit), AWS_REGION (the
# stacks' region), GITHUB_OUTPUT; the deploy role's credentials.
#
# - The tag is the commit, and the repository's tags are immutable: ECR answers
#   ImageTagAlreadyExistsException to a push of a tag it has ("Preventing image tags from being
#   overwritten in Amazon ECR"), and a rebuild would not be the same bytes anyway. So a commit
#   whose image is there already (a re-run) is not built again: that image is deployed.
# - One image manifest for linux/amd64 (the stacks' CPU_ARCHITECTURE default, X86_64), without
#   provenance or SBOM attestations: those would make buildx push an image index whose
#   per-platform manifests carry no tag, and the repository's lifecycle policy expires untagged
#   images (tools/app_repository.py).
# - The digest is the registry's (describe-images of the tag), not the local engine's.
# Exit codes: 0 pushed or found; 1 any failure (no repository: run make bootstrap).
set -euo pipefail
: "${APP_REPOSITORY:?}" "${APP_DOCKERFILE:?}" "${IMAGE_TAG:?}" "${AWS_REGION:?}" "${GITHUB_OUTPUT:?}"

# The digest of IMAGE_TAG in the repository, or nothing when the tag is not there; any other
# answer (no repository, no permission) is a failure.
digest_of_tag() {
  local answer
  if answer=$(aws ecr describe-images --region "$AWS_REGION" --repository-name "$APP_REPOSITORY" \
      --image-ids "imageTag=$IMAGE_TAG" --query 'imageDetails[0].imageDigest' --output text 2>&1); then
    printf '%s' "$answer"
  elif [[ $answer == *ImageNotFoundException* ]]; then
    printf ''
  else
    printf 'push-image: %s\n' "$answer" >&2
    if [[ $answer == *RepositoryNotFoundException* ]]; then
      printf 'push-image: no repository %s in %s: make bootstrap creates it\n' \
        "$APP_REPOSITORY" "$AWS_REGION" >&2
    fi
    return 1
  fi
}

digest=$(digest_of_tag)
if [ -n "$digest" ]; then
  echo "push-image: $APP_REPOSITORY:$IMAGE_TAG is in ECR already ($digest): not built again"
else
  account=$(aws sts get-caller-identity --query Account --output text)
  image="$account.dkr.ecr.$AWS_REGION.amazonaws.com/$APP_REPOSITORY:$IMAGE_TAG"
  registry=${image%%/*}
  aws ecr get-login-password --region "$AWS_REGION" \
    | docker login --username AWS --password-stdin "$registry"
  trap 'docker logout "$registry" >/dev/null' EXIT
  docker build --file "$APP_DOCKERFILE" --platform linux/amd64 --provenance=false --sbom=false \
    --tag "$image" .
  docker push "$image"
  digest=$(digest_of_tag)
fi
if [[ ! $digest =~ ^sha256:[0-9a-f]{64}$ ]]; then
  echo "push-image: ECR gave no digest for $APP_REPOSITORY:$IMAGE_TAG (got '$digest')" >&2
  exit 1
fi
echo "digest=$digest" >> "$GITHUB_OUTPUT"
echo "push-image: the deploy runs ecr:$APP_REPOSITORY@$digest"
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
  echo "**Image:** \`ecr:$APP_REPOSITORY@$digest\` (\`$APP_REPOSITORY:$IMAGE_TAG\`)" >> "$GITHUB_STEP_SUMMARY"
fi

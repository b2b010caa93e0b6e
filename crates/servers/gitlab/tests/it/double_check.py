"""python-gitlab, an independent client written for the real GitLab API,
against the GitLab double (see double.rs). Arguments: URL TOKEN JOB_ID MR_IID.
Prints "python-gitlab: all checks passed" when every check holds."""

import io
import sys
import zipfile

import gitlab

url, token, job_id, mr_iid = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
gl = gitlab.Gitlab(url, private_token=token)

project = gl.projects.get("group/app")
assert project.id == 1 and project.path_with_namespace == "group/app", project
assert gl.projects.get(1).path_with_namespace == "group/app"

# Pagination: every page through the Link header, and the counts from X-Total*.
all_pipes = project.pipelines.list(get_all=True, per_page=2)
assert len(all_pipes) == 5, len(all_pipes)
assert len({p.id for p in all_pipes}) == 5
it = project.pipelines.list(iterator=True, per_page=2)
assert it.total == 5 and it.total_pages == 3 and it.per_page == 2, (it.total, it.total_pages, it.per_page)
assert len(list(it)) == 5
first = project.pipelines.list(page=1, per_page=2, get_all=False)
assert len(first) == 2

# A job and its log.
job = project.jobs.get(job_id)
assert job.status == "failed" and job.name == "test", job
trace = job.trace()
assert b"AssertionError: expected 3, got 4" in trace, trace[-300:]
failed = project.pipelines.get(job.pipeline["id"]).jobs.list(scope="failed", get_all=True)
assert [j.id for j in failed] == [job_id], failed

# Artifacts: the archive is a zip holding the file, and one file alone.
archive = job.artifacts()
names = zipfile.ZipFile(io.BytesIO(archive)).namelist()
assert names == ["reports/junit.xml"], names
assert job.artifact("reports/junit.xml") == b"<testsuite/>"

# Create a pipeline with variables.
created = project.pipelines.create({"ref": "main", "variables": [{"key": "X", "value": "1"}]})
assert created.status == "created" and created.ref == "main", created
assert project.pipelines.get(created.id).id == created.id

# CI lint.
ok = project.ci_lint.create({"content": "build:\n  script: [make]\n"})
assert ok.valid is True, ok.errors
bad = project.ci_lint.create({"content": "build:\n  script: 42\n"})
assert bad.valid is False and bad.errors, bad
try:
    project.ci_lint.validate({"content": "build:\n  script: 42\n"})
    raise AssertionError("validate accepted an invalid file")
except gitlab.exceptions.GitlabCiLintError:
    pass

# Merge requests and notes.
mr = project.mergerequests.get(mr_iid)
assert mr.state == "opened", mr
note = mr.notes.create({"body": "looks good"})
assert note.body == "looks good"
assert any(m.iid == mr_iid for m in project.mergerequests.list(get_all=True))

# Errors as GitLab gives them.
try:
    project.pipelines.get(999999)
    raise AssertionError("404 expected")
except gitlab.exceptions.GitlabGetError as e:
    assert e.response_code == 404, e
try:
    gl.projects.get("secret/app")
    raise AssertionError("403 expected")
except gitlab.exceptions.GitlabGetError as e:
    assert e.response_code == 403, e
try:
    gitlab.Gitlab(url, private_token="glpat-wrong").projects.get(1)
    raise AssertionError("401 expected")
except gitlab.exceptions.GitlabAuthenticationError as e:
    assert e.response_code == 401, e

print("python-gitlab: all checks passed")

# ismap-scan for schedulers other than GitHub (cron, Kubernetes CronJob, AWS ECS/Batch). See docs/github-action.md.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    ISMAP_SCAN_DATA_DIR=/data

WORKDIR /src
COPY . /src
# Every extra, pinned like the tests; the source is removed after the (non-editable) install.
RUN pip install --no-compile -c constraints.txt "/src[all,postgres]" \
    && rm -rf /src \
    && useradd --create-home --uid 10001 --shell /usr/sbin/nologin ismap \
    && mkdir -p /data /scans \
    && chown ismap:ismap /data /scans

USER 10001
WORKDIR /scans
VOLUME ["/data"]
ENTRYPOINT ["ismap-scan"]
CMD ["--help"]

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"time"

	"sigs.k8s.io/kind/pkg/cluster"
	kindcmd "sigs.k8s.io/kind/pkg/cmd"
	dockerimage "sigs.k8s.io/kind/pkg/cmd/kind/load/docker-image"
	kindexec "sigs.k8s.io/kind/pkg/exec"
	kindlog "sigs.k8s.io/kind/pkg/log"
)

// newProvider is kind's docker provider, silent unless given a logger.
func newProvider(logger kindlog.Logger) *cluster.Provider {
	if logger == nil {
		logger = kindlog.NoopLogger{}
	}
	return cluster.NewProvider(cluster.ProviderWithDocker(), cluster.ProviderWithLogger(logger))
}

// dockerAnswers is nil when the docker engine answers (kind's provider shells
// out to docker for everything; this turns "not running" into one line).
func dockerAnswers(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "docker", "info", "--format", "{{.ServerVersion}}").CombinedOutput()
	if err == nil {
		return nil
	}
	why := err.Error()
	if s := strings.TrimSpace(string(out)); s != "" {
		why = oneLine(s)
	}
	return fmt.Errorf("docker is not answering (docker info: %s)", why)
}

// haveImage: docker has the image (lib.sh's have_image).
func haveImage(ctx context.Context, ref string) bool {
	return exec.CommandContext(ctx, "docker", "image", "inspect", ref).Run() == nil
}

func exists(p *cluster.Provider, name string) (bool, error) {
	clusters, err := p.List()
	if err != nil {
		return false, fmt.Errorf("listing kind clusters: %s", kindError(err))
	}
	return slices.Contains(clusters, name), nil
}

// loadImages is kind load docker-image --name name images..., in this process:
// kind v0.30.0 has no library function for it (its runE in
// pkg/cmd/kind/load/docker-image is unexported), so this runs the exported
// command itself, with its checks (images already on a node are skipped).
func loadImages(logger kindlog.Logger, name string, images []string) error {
	c := dockerimage.NewCommand(logger, kindcmd.IOStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: io.Discard})
	c.SetArgs(append([]string{"--name", name}, images...))
	c.SilenceUsage, c.SilenceErrors = true, true
	c.SetOut(io.Discard)
	c.SetErr(io.Discard)
	if err := c.Execute(); err != nil {
		logError(logger, err)
		return errors.New(kindError(err))
	}
	return nil
}

// kindError is a kind error's message: pkg/errors' stack trace is only in %+v.
func kindError(err error) string {
	return oneLine(fmt.Sprintf("%v", err))
}

// logError writes what the kind CLI prints for a failure (cmd/kind/app/main.go's
// logError, without the stack): the error and the output of the command that failed.
func logError(logger kindlog.Logger, err error) {
	logger.Errorf("ERROR: %v", err)
	if re := kindexec.RunErrorForError(err); re != nil {
		logger.Errorf("Command Output: %s", re.Output)
	}
}

// fileLogger is a kind logger that writes warnings, errors and V(0) messages
// (what the kind CLI prints by default) as lines to w.
type fileLogger struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *fileLogger) line(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintln(l.w, strings.TrimRight(s, "\n"))
}

func (l *fileLogger) Warn(m string)                        { l.line("WARNING: " + m) }
func (l *fileLogger) Warnf(f string, args ...any)          { l.Warn(fmt.Sprintf(f, args...)) }
func (l *fileLogger) Error(m string)                       { l.line(m) }
func (l *fileLogger) Errorf(f string, args ...any)         { l.Error(fmt.Sprintf(f, args...)) }
func (l *fileLogger) V(v kindlog.Level) kindlog.InfoLogger { return infoLogger{l, v <= 0} }

type infoLogger struct {
	l  *fileLogger
	on bool
}

func (i infoLogger) Info(m string) {
	if i.on {
		i.l.line(m)
	}
}

func (i infoLogger) Infof(f string, args ...any) {
	if i.on {
		i.l.line(fmt.Sprintf(f, args...))
	}
}

func (i infoLogger) Enabled() bool { return i.on }

var _ kindlog.Logger = (*fileLogger)(nil)
